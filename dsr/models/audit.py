"""The audit log: append-only events chained by SHA-256."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """One thing that happened: a status change, an email sent, a decision.

    `prev_hash` is the hash of the event before it in the whole log (not per
    case), so that editing or deleting any row breaks the chain.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("requests.id", ondelete="SET NULL"), index=True
    )
    #: who did it: "subject", "system", "staff:<email>", "connector:<name>"
    actor: Mapped[str] = mapped_column(String(200))
    #: what happened, dotted: "request.created", "status.changed", "mail.sent"
    kind: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(db.Model):
    """The single row that holds the chain's last hash and length.

    Appends lock this row, which serialises writers; comparing it with the
    last event detects a deleted tail.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=0)
