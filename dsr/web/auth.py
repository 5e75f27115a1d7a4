"""Who is asking: staff sessions for the pages, bearer tokens for the staff API.

Pages use Flask-Login's session cookie and `role_required`; the staff API
accepts only `Authorization: Bearer <token>` (`token_required`), never the
cookie, which is why its blueprint may be exempt from CSRF.
"""

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user

from dsr import staff
from dsr.extensions import db
from dsr.models import StaffRole, StaffUser
from dsr.web.api import ApiError
from dsr.web.errors import MESSAGES

login_manager = LoginManager()


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """The signed-in account; a deactivated one is signed out at its next request."""
    user = db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


@login_manager.unauthorized_handler
def to_login():
    """Anonymous on a staff page: to the login form, and back to the page afterwards.

    Only a GET comes back: a form sent while signed out is not sent again.
    """
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
