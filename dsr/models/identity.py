"""Identifiers the subject claims (phone, customer number) and answers withheld for doubt.

The verified email is the one identifier a request proves by itself. Every
other identifier the subject typed is only *claimed*: connectors never match
on it until it is proven, by a code sent to the phone or by a handler's
decision. A row exists once something happened to a claim (a code sent, a
proof); an identifier without a row is simply claimed.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class ClaimStatus(StrEnum):
    """Where a claimed identifier stands."""

    CLAIMED = "claimed"
    PROVEN = "proven"


class ProofMethod(StrEnum):
    """How an identifier was proven."""

    SMS_CODE = "sms_code"
    HANDLER = "handler"


class IdentityClaim(db.Model):
    """One identifier of a request besides the email, and how it was proven."""

    __tablename__ = "identity_claims"
    __table_args__ = (UniqueConstraint("request_id", "kind", "normalised"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    #: `phone` or `customer_number`
    kind: Mapped[str] = mapped_column(String(32))
    #: as the subject typed it
    value: Mapped[str] = mapped_column(String(64))
    #: as connectors compare it (E.164, upper-cased customer number)
    normalised: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ClaimStatus.CLAIMED)
    method: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    #: the current one-time code, as an HMAC (never the code itself)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: wrong codes entered against the current code
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request = relationship("DataRequest")

    @property
    def is_proven(self) -> bool:
        return self.status == ClaimStatus.PROVEN


class HeldStatus(StrEnum):
    """A withheld answer waits for a handler, who releases it or discards it."""

    HELD = "held"
    RELEASED = "released"
    DISCARDED = "discarded"


class WithheldAnswer(db.Model):
    """A task's answer kept out of the results: some of its records carry another email."""

    __tablename__ = "withheld_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), unique=True, index=True
    )
    #: table -> records withheld
    record_counts: Mapped[dict] = mapped_column(JSON, default=dict)
    #: how many of them carry an email address other than the verified one
    mismatched: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=HeldStatus.HELD)
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    task = relationship("Task")

    @property
    def record_total(self) -> int:
        return sum((self.record_counts or {}).values())
