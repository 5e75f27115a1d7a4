"""The web layer: the subject's pages, the staff pages, the API, and development helpers."""

from flask import Flask

from dsr.web import errors, headers, proxy


def init_app(app: Flask) -> None:
    """Register every blueprint; the development pages (the outbox) only in development."""
    # ask_api, assign_api, decide_api, decisions_api, identity_api, left_out_api,
    # release_api, transmit_api, staff_ask, staff_assign, staff_dashboard, staff_decide,
    # staff_decisions, staff_identity, staff_release and subject_answer add their views to
    # staff_api's, staff's and subject's blueprints; staff_password and staff_users (user
    # administration) theirs to staff's
    from dsr.web import (
        api,
        ask_api,  # noqa: F401
        assign_api,  # noqa: F401
        auth,
        callbacks,
        decide_api,  # noqa: F401
        decisions_api,  # noqa: F401
        identity_api,  # noqa: F401
        left_out_api,  # noqa: F401
        public,
        release_api,  # noqa: F401
        staff,
        staff_api,
        staff_ask,  # noqa: F401
        staff_assign,  # noqa: F401
        staff_dashboard,  # noqa: F401
        staff_decide,  # noqa: F401
        staff_decisions,  # noqa: F401
        staff_identity,  # noqa: F401
        staff_password,  # noqa: F401
        staff_release,  # noqa: F401
        staff_users,  # noqa: F401
        subject,
        subject_answer,  # noqa: F401
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
