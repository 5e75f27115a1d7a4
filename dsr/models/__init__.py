"""The database models, one module per concern."""

from dsr.models.audit import AuditEvent, AuditHead
from dsr.models.request import ClockPause, DataRequest, ReferenceCounter
from dsr.models.task import FINISHED, Task, TaskStatus

__all__ = [
    "FINISHED",
    "AuditEvent",
    "AuditHead",
    "ClockPause",
    "DataRequest",
    "ReferenceCounter",
    "Task",
    "TaskStatus",
]
