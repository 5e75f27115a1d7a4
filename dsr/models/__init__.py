"""The database models, one module per concern."""

from dsr.models.audit import AuditEvent, AuditHead
from dsr.models.request import ClockPause, DataRequest, ReferenceCounter

__all__ = ["AuditEvent", "AuditHead", "ClockPause", "DataRequest", "ReferenceCounter"]
