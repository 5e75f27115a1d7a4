"""Writing and checking the audit chain.

Every event carries the hash of the one before it and its own SHA-256 over a
canonical JSON form, so an edited or deleted row is found by walking the log.
The `audit_head` row holds the last hash: appends lock it (one writer at a
time, whatever the database) and `verify_chain` compares it with the last
event, which catches a deleted tail.

What an event may carry. The chain cannot be edited and outlives every
retention period, so an event refers to its request by id only (the row is
never deleted: `dsr.retention` anonymises it in place, so the id stays valid
and no hash changes) and its `data` never holds the subject's personal data:
no email, name, identifier or details (the request row holds those), and no
free text from outside the engine, such as a system's error or outcome or a
handler's note, which may quote the person (the task row holds those, and the
purge empties them). `record` leaves out the keys in `OUTSIDE_TEXT` whoever
passes them. Events carry references, types, statuses, task ids, counts and
the engine's own words. Staff events name the staff member who acted.
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update

from dsr.extensions import db
from dsr.models import AuditEvent, AuditHead
from dsr.models.types import utcnow

GENESIS = "0" * 64
#: keys whose values are free text written outside the engine (a system's error or
#: outcome, a handler's note): kept on the task row, never put in the chain
OUTSIDE_TEXT = frozenset({"error", "last_error", "outcome", "note"})

# The append's statements, on the tables (Core), built once: a statement built per
# call costs more to construct and cache-key than SQLite takes to run it.
_EVENTS, _HEAD = AuditEvent.__table__, AuditHead.__table__
_LOCK_HEAD = select(_HEAD.c.last_id, _HEAD.c.last_hash).with_for_update()
_INSERT_EVENT = insert(_EVENTS)
_ADVANCE_HEAD = update(_HEAD).values(
    last_id=bindparam("event_id"), last_hash=bindparam("event_hash"), count=_HEAD.c.count + 1
)


def canonical(event: AuditEvent) -> bytes:
    """The bytes an event's hash is computed over."""
    body = {
        "id": event.id,
        "request_id": event.request_id,
        "actor": event.actor,
        "kind": event.kind,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def record(kind: str, *, actor: str, request_id: int | None = None, data=None) -> AuditEvent:
    """Append an event to the chain in the current transaction (the caller commits).

    Three Core statements rather than ORM objects and a flush: less than half
    the time, and the write lock is held from here until the caller commits.
    The event returned is what was written; it is not in the session.
    """
    head = db.session.execute(_LOCK_HEAD).one()
    event = AuditEvent(
        id=head.last_id + 1,
        request_id=request_id,
        actor=actor,
        kind=kind,
        data={key: value for key, value in (data or {}).items() if key not in OUTSIDE_TEXT},
        created_at=utcnow(),
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(event)
    db.session.execute(_INSERT_EVENT, {key: getattr(event, key) for key in _EVENTS.c.keys()})
    db.session.execute(_ADVANCE_HEAD, {"event_id": event.id, "event_hash": event.hash})
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: how many events, and the first break."""

    count: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None and not self.reason


def verify_chain(batch: int = 1000) -> ChainReport:
    """Walk every event in order and report the first one that does not hold."""
    prev_hash, expected_id, count = GENESIS, 1, 0
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch)
    # closed on every way out: on PostgreSQL it streams through a server-side cursor
    with db.session.execute(query) as events:
        for event in events.scalars():
            if event.id != expected_id or event.prev_hash != prev_hash:
                return ChainReport(count, event.id, "the event before it was deleted or altered")
            if event_hash(event) != event.hash:
                return ChainReport(count, event.id, "its content was edited")
            prev_hash, expected_id, count = event.hash, expected_id + 1, count + 1
    head = db.session.execute(select(AuditHead.last_hash, AuditHead.count)).one_or_none()
    if head is None or head.last_hash != prev_hash or head.count != count:
        return ChainReport(
            count, None, "the last events were deleted (the chain head does not match)"
        )
    return ChainReport(count)


def events_for(request_id: int) -> list[AuditEvent]:
    """A case's events, oldest first: its timeline."""
    query = select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.id)
    return list(db.session.scalars(query))
