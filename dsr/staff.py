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


class LastAdmin(AccountError):
    """The change would leave no active administrator to manage the accounts."""

    def __init__(self, email: str):
        super().__init__(f"{email} is the last active admin: make another admin first")


def find_user(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def all_users() -> list[StaffUser]:
    """Every staff account, by email."""
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.email)))


def create_user(email: str, role: str, password: str, *, actor: str = "system") -> StaffUser:
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
    audit.record("staff.user_created", actor=actor, data={"email": email, "role": role})
    return user


def keep_an_admin(user: StaffUser) -> None:
    """LastAdmin if `user` is the only active admin (whose role or activity is to change).

    The admins' rows stay locked until the caller commits, so two admins who
    demote each other at the same moment do not both succeed.
    """
    if not (user.active and user.role == StaffRole.ADMIN):
        return
    admins = db.session.scalars(
        select(StaffUser.id)
        .where(StaffUser.role == StaffRole.ADMIN, StaffUser.active.is_(True))
        .with_for_update()
    ).all()
    if set(admins) <= {user.id}:
        raise LastAdmin(user.email)


def set_role(user: StaffUser, role: str, *, actor: str = "system") -> None:
    """Give the account another role; AccountError for an unknown role, LastAdmin if it
    would leave no active admin."""
    if role not in set(StaffRole):
        raise AccountError(f"unknown role {role!r} (choose admin, handler or viewer)")
    if role == user.role:
        return
    if role != StaffRole.ADMIN:
        keep_an_admin(user)
    data = {"email": user.email, "role": role, "was": user.role}
    user.role = role
    audit.record("staff.role_changed", actor=actor, data=data)


def set_active(user: StaffUser, active: bool, *, actor: str = "system") -> None:
    """Allow or forbid an account to sign in and use its tokens; deactivating it also ends
    its sessions. A lock stays: `unlock` lifts it. LastAdmin if deactivating it would
    leave no active admin."""
    if not active:
        keep_an_admin(user)
    user.active = active
    if not active:
        end_sessions(user)
    kind = "staff.user_activated" if active else "staff.user_deactivated"
    audit.record(kind, actor=actor, data={"email": user.email})


def unlock(user: StaffUser, *, actor: str = "system") -> None:
    """Lift a lockout after wrong passwords, and start counting them afresh."""
    was_locked_until = user.locked_until
    user.locked_until, user.failed_logins = None, 0
    data = {"email": user.email}
    if was_locked_until is not None:
        data["was_locked_until"] = was_locked_until.isoformat()
    audit.record("staff.user_unlocked", actor=actor, data=data)


def set_password(user: StaffUser, password: str, *, actor: str = "system") -> None:
    """A new password for the account; every session opened with the old one ends."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hasher().hash(password)
    end_sessions(user)
    audit.record("staff.password_changed", actor=actor, data={"email": user.email})


def end_sessions(user: StaffUser) -> None:
    """Make every session cookie of this account worthless (their id names the old version)."""
    user.session_version = (user.session_version or 1) + 1


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


def create_token(user: StaffUser, expires_days: int | None = None) -> str:
    """A new API token for `user`, valid `expires_days` days (None: until revoked).

    Returned once; only its digest is stored.
    """
    if expires_days is not None and expires_days < 1:
        raise AccountError("a token expires after at least 1 day")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    api_token = ApiToken(token_hash=token_digest(token), expires_at=expires_at)
    user.tokens.append(api_token)
    db.session.flush()
    data = {"email": user.email, "token_id": api_token.id}
    if expires_at is not None:
        data["expires_at"] = expires_at.isoformat()
    audit.record("staff.token_created", actor="system", data=data)
    return token


def tokens_of(user: StaffUser) -> list[ApiToken]:
    """The account's tokens, oldest first, revoked and expired ones included."""
    return sorted(user.tokens, key=lambda token: token.id)


def revoke_token(token_id: int, *, actor: str = "system") -> ApiToken:
    """Refuse a token from now on; AccountError if there is no such token."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise AccountError(f"no API token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        data = {"email": token.user.email, "token_id": token.id}
        audit.record("staff.token_revoked", actor=actor, data=data)
    return token


def user_for_token(token: str) -> StaffUser | None:
    """The account a usable token belongs to, noting when it was last used."""
    found = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    now = utcnow()
    if found is None or not found.usable(now):
        return None
    if found.last_used_at is None or now - found.last_used_at >= TOKEN_TOUCH_INTERVAL:
        found.last_used_at = now
    return found.user
