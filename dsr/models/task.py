"""A task: one action asked of one connector for one request, and one RQ job.

The row is the source of truth; the RQ job (whose id is the task id) is how
the work gets done. If the job vanishes (Redis restarted, a worker killed),
the reconciliation finds the task still `queued` or `running` and enqueues it
again. Which status may follow which is `dsr.task_status`'s table.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class TaskStatus(StrEnum):
    """Where a task stands. The values are the public contract."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    WAITING_CALLBACK = "waiting_callback"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    #: its request was withdrawn, rejected or expired before the task finished
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset(
    {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.SKIPPED, TaskStatus.CANCELLED}
)


def new_task_id() -> str:
    return str(uuid.uuid4())


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("request_id", "connector", "action"),)

    #: a UUID: also the RQ job id and the last part of the callback URL
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_task_id)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    connector: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), index=True, default=TaskStatus.PENDING)
    #: how many times a worker started it
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: the last failure, as handlers read it
    last_error: Mapped[str | None] = mapped_column(Text)
    #: what the system said it did ("no data", "3 rows deleted", a handler's note)
    outcome: Mapped[str | None] = mapped_column(Text)
    #: milliseconds the last attempt spent in the connector (the system's own time)
    connector_ms: Mapped[int | None] = mapped_column(Integer)
    #: table -> number of records returned; the records are in files (`dsr.results`)
    record_counts: Mapped[dict] = mapped_column(JSON, default=dict)
    #: what the engine tells the system besides the subject (the notice's `details`):
    #: fields to keep under a legal hold, changes, activities (README, connector protocol)
    details: Mapped[dict | None] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the system accepted the task and we began waiting for its callback
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request = relationship("DataRequest", back_populates="tasks")

    @property
    def status_enum(self) -> TaskStatus:
        return TaskStatus(self.status)

    @property
    def is_finished(self) -> bool:
        return self.status_enum.is_finished

    @property
    def record_total(self) -> int:
        return sum((self.record_counts or {}).values())
