"""Staff accounts: creation, passwords, sign-in with lockout, and API tokens.

Sign-in never says which part was wrong: an unknown address, a wrong
password, a locked or an inactive account all fail alike, and take about as
long (a password is checked in every case), so nobody can learn which
addresses have accounts. What really happened goes to the audit log.

Like `dsr.operations`, these functions change the session and write audit
events; the caller commits.
"""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from connectors.matching import normalise_email
from dsr import audit
from dsr.extensions import db
from dsr.models import ApiToken, StaffRole, StaffUser
from dsr.models.types import utcnow

logger = logging.getLogger(__name__)

#: shortest password accepted; length is what makes a password strong
MIN_PASSWORD_LENGTH = 12
#: a token's `last_used_at` is written at most this often
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
#: the visible start of every token, so that secret scanners can recognise one
TOKEN_PREFIX = "dsr_"


def hasher() -> PasswordHasher:
    """Argon2id with the parameters of `PASSWORD_HASH_PROFILE` (an `argon2.profiles` name).

    RFC 9106's low-memory profile by default; the tests use the cheapest one,
    which takes a millisecond instead of a tenth of a second. A hash records its
    own parameters, so a change of profile re-hashes each password at its next
    sign-in.
    """
    name = current_app.config["PASSWORD_HASH_PROFILE"]
    return _hashers.setdefault(name, PasswordHasher.from_parameters(getattr(profiles, name)))


_hashers: dict[str, PasswordHasher] = {}


class AccountError(ValueError):
    """An account operation that cannot be done; the message says why."""


def find_user(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def create_user(email: str, role: str, password: str) -> StaffUser:
    """A new, active staff account; AccountError if the input cannot make one."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(f"{email!r} is not an email address")
    if role not in set(StaffRole):
        raise AccountError(f"unknown role {role!r} (choose admin, handler or viewer)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(email) is not None:
        raise AccountError(f"a staff user {email} already exists")
    user = StaffUser(
        email=email, role=role, password_hash=hasher().hash(password), active=True, failed_logins=0
    )
    db.session.add(user)
    db.session.flush()
    audit.record("staff.user_created", actor="system", data={"email": email, "role": role})
    return user


def set_active(user: StaffUser, active: bool, *, actor: str = "system") -> None:
    """Allow or forbid an account to sign in and use its tokens."""
    user.active = active
    kind = "staff.user_activated" if active else "staff.user_deactivated"
    audit.record(kind, actor=actor, data={"email": user.email})


@cache
def dummy_hash(profile: str) -> str:
    """A hash of `profile`'s cost to check against when the address is unknown, to take
    the same time."""
    return hasher().hash(secrets.token_urlsafe(16))


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def lockout_settings() -> tuple[int, timedelta]:
    """How many wrong passwords lock an account, and for how long."""
    config = current_app.config
    attempts = config["STAFF_LOCKOUT_ATTEMPTS"]
    return attempts, timedelta(minutes=config["STAFF_LOCKOUT_MINUTES"])


def authenticate(email: str, password: str) -> StaffUser | None:
    """The account these credentials open, or None; counts failures and locks (caller commits)."""
    now = utcnow()
    user = find_user(email)
    if user is None:
        password_matches(dummy_hash(current_app.config["PASSWORD_HASH_PROFILE"]), password)
        login_failed(None, email, "unknown_user")
        return None
    matches = password_matches(user.password_hash, password)
    # Read the counter and the lock again under a row lock, held until the caller commits:
    # parallel attempts then count one after the other (the slow hash is checked before).
    db.session.refresh(user, with_for_update=True)
    if user.is_locked(now):
        login_failed(user, email, "locked")
    elif not user.active:
        login_failed(user, email, "inactive")
    elif not matches:
        wrong_password(user, now)
    else:
        signed_in(user, password, now)
        return user
    return None


def login_failed(user: StaffUser | None, email: str, reason: str) -> None:
    actor = user.actor if user else "anonymous"
    data = {"email": normalise_email(email)[:254], "reason": reason}
    audit.record("staff.login_failed", actor=actor, data=data)
    logger.info("staff sign-in refused for %s: %s", data["email"], reason)


def wrong_password(user: StaffUser, now: datetime) -> None:
    """Count the failure; at the limit, lock the account and start counting afresh."""
    attempts, duration = lockout_settings()
    user.failed_logins = (user.failed_logins or 0) + 1
    login_failed(user, user.email, "wrong_password")
    if user.failed_logins >= attempts:
        user.locked_until, user.failed_logins = now + duration, 0
        audit.record(
            "staff.locked",
            actor="system",
            data={"email": user.email, "until": user.locked_until.isoformat()},
        )
        logger.warning("staff account %s locked until %s", user.email, user.locked_until)


def signed_in(user: StaffUser, password: str, now: datetime) -> None:
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hasher().hash(password)
    audit.record("staff.login", actor=user.actor, data={"email": user.email})


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: StaffUser) -> str:
    """A new API token for `user`: returned once, only its digest is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user.tokens.append(ApiToken(token_hash=token_digest(token)))
    db.session.flush()
    audit.record("staff.token_created", actor="system", data={"email": user.email})
    return token


def user_for_token(token: str) -> StaffUser | None:
    """The active account a presented token belongs to, noting when it was last used."""
    found = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if found is None or not found.user.active:
        return None
    now = utcnow()
    if found.last_used_at is None or now - found.last_used_at >= TOKEN_TOUCH_INTERVAL:
        found.last_used_at = now
    return found.user
