"""The web layer: the subject's pages, the staff pages, the API, and development helpers."""

from flask import Flask

from dsr.web import errors, headers, proxy


def init_app(app: Flask) -> None:
    """Register every blueprint; the development pages (the outbox) only in development."""
    # decisions_api, identity_api, left_out_api, release_api, transmit_api, staff_decisions,
    # staff_identity and staff_release add their views to staff_api's and staff's blueprints
    # (so do assign_api, staff_assign and staff_dashboard)
    from dsr.web import (
        api,
        assign_api,  # noqa: F401
        auth,
        callbacks,
        decisions_api,  # noqa: F401
        identity_api,  # noqa: F401
        left_out_api,  # noqa: F401
        public,
        release_api,  # noqa: F401
        staff,
        staff_api,
        staff_assign,  # noqa: F401
        staff_dashboard,  # noqa: F401
        staff_decisions,  # noqa: F401
        staff_identity,  # noqa: F401
        staff_release,  # noqa: F401
        subject,
        transmit_api,  # noqa: F401
    )

    auth.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(subject.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(callbacks.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(staff_api.bp)
    if app.config["DSR_ENV"] == "development":
        from dsr.web import dev

        app.register_blueprint(dev.bp)
    errors.init_app(app)
    headers.init_app(app)
    proxy.init_app(app)
