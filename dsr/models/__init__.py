"""The database models, one module per concern."""

from dsr.models.audit import AuditEvent, AuditHead
from dsr.models.directive import Directive
from dsr.models.document import Document
from dsr.models.identity import (
    ClaimStatus,
    HeldStatus,
    IdentityClaim,
    ProofMethod,
    WithheldAnswer,
)
from dsr.models.note import CaseNote
from dsr.models.question import Question
from dsr.models.request import ClockPause, DataRequest, ReferenceCounter
from dsr.models.staff import ApiToken, StaffRole, StaffUser
from dsr.models.suppression import Suppression
from dsr.models.task import FINISHED, Task, TaskStatus

__all__ = [
    "FINISHED",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "CaseNote",
    "ClaimStatus",
    "ClockPause",
    "DataRequest",
    "Directive",
    "Document",
    "HeldStatus",
    "IdentityClaim",
    "ProofMethod",
    "Question",
    "ReferenceCounter",
    "StaffRole",
    "StaffUser",
    "Suppression",
    "Task",
    "TaskStatus",
    "WithheldAnswer",
]
