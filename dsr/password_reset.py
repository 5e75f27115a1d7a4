"""A staff account's new password, chosen by its owner through a one-time link sent by email.

An admin sends the link (the users page, or `dsr user reset-password`); an
account created on the page gets one too, so that nobody but its owner ever
knows its password. The link is signed under its own salt
(`Purpose.PASSWORD_RESET`), expires after `PASSWORD_RESET_LINK_MAX_AGE`, and
carries a fingerprint of the account's password hash as it was: once a new
password is set the hash changes, and that link and every older one are
refused. A deactivated account's links are refused too.

Staff accounts store no language: the email is in English.
"""

import hashlib
import hmac
import logging

from flask import current_app, render_template
from flask_babel import force_locale

from dsr import audit, mail, signing, staff
from dsr.extensions import db
from dsr.models import StaffUser
from dsr.models.types import utcnow
from dsr.queue import enqueue
from dsr.signing import Purpose, TokenError
from dsr.urls import external_url

logger = logging.getLogger(__name__)

#: the language of the email (a staff account has none of its own)
LANGUAGE = "en"
TEMPLATE = "password_reset"


def fingerprint(user: StaffUser) -> str:
    """What ties a link to the password it replaces (never the hash itself) and to the
    account's sessions: a deactivation ends them, and with them the links sent before."""
    tied = f"{user.password_hash}:{user.session_version}"
    return hashlib.sha256(tied.encode()).hexdigest()[:32]


def link(user: StaffUser) -> str:
    token = signing.sign(Purpose.PASSWORD_RESET, user.id, fingerprint(user))
    return external_url("staff.reset_password", token=token)


class LinkRefused(Exception):
    """A password link that sets no password; `problem` is "expired", "invalid" or "used"."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def account_for(token: str, *, lock: bool = False) -> StaffUser:
    """The account a link was sent to; LinkRefused if the link is forged or expired, its
    account gone or deactivated, or a password was set since it was sent. `lock`: hold the
    account's row until the commit, so that one link sets one password, even sent twice
    at once."""
    try:
        payload = signing.load(Purpose.PASSWORD_RESET, token)
    except TokenError as exc:
        raise LinkRefused("expired" if exc.expired else "invalid") from exc
    user = db.session.get(
        StaffUser, payload.request_id, with_for_update=lock or None, populate_existing=lock
    )
    if user is None or not user.active:
        raise LinkRefused("invalid")
    if not hmac.compare_digest(payload.nonce or "", fingerprint(user)):
        raise LinkRefused("used")
    return user


def link_requested(user: StaffUser, *, actor: str) -> None:
    """Record that a link goes to the account (the caller commits, then calls `mail_link`)."""
    audit.record("staff.password_link_sent", actor=actor, data={"email": user.email})


def mail_link(user: StaffUser, *, new_account: bool = False) -> None:
    """Queue the email with a fresh link; after the commit."""
    enqueue(
        send_link_job,
        user.id,
        link(user),
        new_account,
        queue="mail",
        retries=3,
        description=f"send a password link to staff user {user.id}",
    )


def send_link_job(user_id: int, url: str, new_account: bool) -> None:
    """Render and deliver the link's email, and log it (runs in a worker)."""
    user = db.session.get(StaffUser, user_id)
    if user is None or not user.active:
        logger.warning("password link for staff user %s not sent: no active account", user_id)
        return
    values = {
        "controller": current_app.config["INSTANCE"]["controller"],
        "email": user.email,
        "url": url,
        "hours": -(-current_app.config["PASSWORD_RESET_LINK_MAX_AGE"] // 3600),  # rounded up
        "new_account": new_account,
    }
    with force_locale(LANGUAGE):
        subject = render_template(f"email/{TEMPLATE}.subject.txt", **values)
        body = render_template(f"email/{TEMPLATE}.txt", **values)
    message = mail.compose(
        user.email, " ".join(subject.split()), mail.tidy(body), LANGUAGE, TEMPLATE
    )
    mail.backend_for(current_app.config).deliver(message)
    data = {"template": TEMPLATE, "message_id": message["Message-ID"], "email": user.email}
    audit.record("mail.sent", actor="system", data=data)
    db.session.commit()


def reset(user: StaffUser, password: str) -> None:
    """The owner's new password (AccountError if too short): its sessions end, a lockout
    ends, and the link is used up. The caller commits."""
    staff.set_password(user, password, actor=user.actor)
    if user.is_locked(utcnow()):
        staff.unlock(user, actor=user.actor)
