"""A data-subject request and the pauses of its legal clock."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow
from dsr.status import RequestStatus


class DataRequest(db.Model):
    """What a person asked for, about which data, and where it stands.

    The type-specific part lives in `details` (validated by the type's
    definition in `workflows`); `identifiers` holds what connectors match on
    besides the email (phone, customer number).

    Rows are never deleted: the audit chain refers to them by id, and a
    request past its retention is anonymised in place (`dsr.retention`).
    """

    __tablename__ = "requests"
    __table_args__ = (
        #: the dashboard's answers over time: a status, a range of closing dates, and every
        #: column their figures read, so that they come from the index alone
        Index(
            "ix_requests_answers",
            "status",
            "closed_at",
            "type",
            "received_at",
            "due_at",
            "extended_due_at",
        ),
        #: the queue's filter by right: one type's cases in some statuses
        Index("ix_requests_type_status", "type", "status"),
        #: the queue's "mine": one account's cases in some statuses
        Index("ix_requests_assignee_id_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    identifiers: Mapped[dict] = mapped_column(JSON, default=dict)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(8))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: end of the last day to answer, in the controller's time zone, stored in UTC
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: set when the deadline was extended by up to two months (Art. 12(3))
    extended_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: the nonce inside the current verification link; cleared once used,
    #: replaced on resend, so that every link works once
    verify_nonce: Mapped[str | None] = mapped_column(String(32))
    #: this request's data key, wrapped under the master key (`dsr.keys`); made with
    #: the request, dropped with its results, so that any copy of them stays unreadable
    data_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: when the retention purge deleted the result files and the data key
    results_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the retention purge emptied the personal data; the row stays as a tombstone
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: what a handler left out of the answer (Art. 15(4)): a list of
    #: {connector, table, record (0-based position or None), reason, by, at} (`dsr.release`)
    left_out: Mapped[list | None] = mapped_column(JSON, default=list)
    #: the release of the answer: asked for (and by whom), done, or stopped by an error;
    #: a request asked for and neither done nor failed is being built (or its job was lost)
    release_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    release_requested_by: Mapped[str | None] = mapped_column(String(254))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_error: Mapped[str | None] = mapped_column(String(2000))
    #: portability (Art. 20(2)): when the pack was last sent to the receiving controller the
    #: person named, and the nonce its pull link carries (a new sending voids older links)
    transmitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transmission_nonce: Mapped[str | None] = mapped_column(String(64))
    #: a handler's decisions on the request (`dsr.decisions`): {"changes": [{index, accepted,
    #: fields | reason, by, at}], "objection": {upheld, activities, reasoning, by, at}}
    decisions: Mapped[dict | None] = mapped_column(JSON, default=dict)
    #: restriction (Art. 18): in force since, the person told of its lifting (Art. 18(3)),
    #: lifted
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    restriction_lift_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restriction_lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: a duplicate merged by a handler (`dsr.duplicates`): the request that answers for it
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    #: the handler or admin who looks after the case (`dsr.assignment`); None: nobody yet
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    assignee: Mapped["StaffUser | None"] = relationship()  # noqa: F821 - dsr.models.staff

    pauses: Mapped[list["ClockPause"]] = relationship(
        back_populates="request", order_by="ClockPause.started_at", cascade="all, delete-orphan"
    )
    tasks: Mapped[list["Task"]] = relationship(  # noqa: F821 - dsr.models.task
        back_populates="request",
        order_by="(Task.connector, Task.action)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def status_enum(self) -> RequestStatus:
        return RequestStatus(self.status)

    @property
    def effective_due_at(self) -> datetime:
        """The deadline in force: the extended one once an extension is decided."""
        return self.extended_due_at or self.due_at


class ClockPause(db.Model):
    """A span during which the legal clock stood still (awaiting the subject)."""

    __tablename__ = "clock_pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[DataRequest] = relationship(back_populates="pauses")


class ReferenceCounter(db.Model):
    """The last reference number handed out in a year (`DSR-YYYY-NNNNNN`)."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)
