"""The privacy team: staff accounts, their roles, and their API tokens."""

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class StaffRole(StrEnum):
    """What a staff member may do; each role can do everything the ones below it can."""

    VIEWER = "viewer"
    HANDLER = "handler"
    ADMIN = "admin"

    @property
    def title(self):
        return ROLE_TITLES[self]

    def allows(self, needed: "StaffRole") -> bool:
        """Whether this role covers what `needed` may do."""
        return ROLE_RANK[self] >= ROLE_RANK[needed]


#: viewer reads; handler also acts on cases; admin may do everything
ROLE_RANK = {StaffRole.VIEWER: 0, StaffRole.HANDLER: 1, StaffRole.ADMIN: 2}

ROLE_TITLES = {
    StaffRole.VIEWER: _l("Viewer"),
    StaffRole.HANDLER: _l("Handler"),
    StaffRole.ADMIN: _l("Administrator"),
}


class StaffUser(UserMixin, db.Model):
    """A member of the privacy team who signs in to the staff pages."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: stored lower-case: the login compares lower-case
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    #: an Argon2id hash (argon2-cffi's PHC string), never the password
    password_hash: Mapped[str] = mapped_column(String(255))
    #: an inactive account cannot sign in nor use its API tokens
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: wrong passwords since the last success or the last lock
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: part of every session's id: raising it (sign-out, deactivation, new password) ends
    #: every session signed in before, whatever copies of their cookies exist
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to sign in an inactive user
        return self.active

    def get_id(self) -> str:
        """What the session cookie holds: the account and its session version."""
        return f"{self.id}:{self.session_version}"

    @property
    def role_enum(self) -> StaffRole:
        return StaffRole(self.role)

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"staff:{self.email}"

    def can(self, needed: StaffRole) -> bool:
        return self.role_enum.allows(needed)

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


class ApiToken(db.Model):
    """A bearer token for the staff API.

    Only its SHA-256 is kept: a copy of the table gives nobody a usable token.
    """

    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    #: hex SHA-256 of the token as the client sends it
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: updated at most once a minute, so that reads do not all become writes
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: after this the token is refused; None: it does not expire
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set by `dsr token revoke`; a revoked token is refused for good
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[StaffUser] = relationship(back_populates="tokens")

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor expired, and its account active."""
        expired = self.expires_at is not None and self.expires_at <= now
        return self.revoked_at is None and not expired and self.user.active
