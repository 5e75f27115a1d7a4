"""Who is asking: staff sessions for the pages, bearer tokens for the staff API.

Pages use Flask-Login's session cookie and `role_required`; the staff API
accepts only `Authorization: Bearer <token>` (`token_required`), never the
cookie, which is why its blueprint may be exempt from CSRF.

A session's id is "<user id>:<session version>" (`StaffUser.get_id`): signing
out, deactivation and a new password raise the version, which ends every
copy of every older cookie. A session unused for `STAFF_IDLE_MINUTES` ends
too (`sign_out_when_idle`).
"""

import time
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, logout_user

from dsr import audit, staff
from dsr.extensions import db
from dsr.models import StaffRole, StaffUser
from dsr.web.api import ApiError
from dsr.web.errors import MESSAGES

login_manager = LoginManager()


#: the session key holding when a signed-in session was last used (unix seconds)
LAST_SEEN = "staff_seen"


@login_manager.user_loader
def load_user(session_id: str) -> StaffUser | None:
    """The signed-in account, if the session is still its current one and it is active."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def sign_out_when_idle() -> None:
    """End a staff session unused for longer than `STAFF_IDLE_MINUTES`; else note this use."""
    if "_user_id" not in session:
        return
    now = int(time.time())
    idle_limit = current_app.config["STAFF_IDLE_MINUTES"] * 60
    last_seen = session.get(LAST_SEEN)
    if not isinstance(last_seen, int) or now - last_seen > idle_limit:
        if current_user.is_authenticated:  # not when the account's sessions already ended
            data = {"email": current_user.email, "idle_minutes": idle_limit // 60}
            audit.record("staff.session_expired", actor=current_user.actor, data=data)
            db.session.commit()
        logout_user()
        session.pop(LAST_SEEN, None)
        g.idle_signed_out = True
        flash(_("You were signed out after a while without activity. Sign in again."))
        return
    session[LAST_SEEN] = now


def note_sign_in() -> None:
    """Start the idle clock of a session that has just signed in."""
    session[LAST_SEEN] = int(time.time())


@login_manager.unauthorized_handler
def to_login():
    """Anonymous on a staff page: to the login form, and back to the page afterwards.

    Only a GET comes back: a form sent while signed out is not sent again.
    """
    if not g.get("idle_signed_out"):
        flash(_("Sign in to see this page."))
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("staff.login", next=back))


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: no open redirect through `next`."""
    if not target or any(ord(char) < 32 or char == "\\" for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def role_required(role: StaffRole):
    """A page for signed-in staff of `role` or above: others get the login form or a 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def token_required(role: StaffRole):
    """An API view for a token of `role` or above: 401 without a valid token, 403 below."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            g.api_user = api_user(role)
            return view(*args, **kwargs)

        wrapped.required_role = role  # the OpenAPI document's security (`dsr.web.openapi`)
        return wrapped

    return decorator


def api_user(role: StaffRole) -> StaffUser:
    token = bearer_token()
    if token is None:
        raise ApiError(401, "unauthorized", str(MESSAGES[401]))
    user = staff.user_for_token(token)
    db.session.commit()  # the token's last use, when it changed
    if user is None:
        raise ApiError(401, "invalid_token", str(MESSAGES[401]))
    if not user.can(role):
        raise ApiError(403, "forbidden", str(MESSAGES[403]))
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(sign_out_when_idle)
