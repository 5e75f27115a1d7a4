"""Duplicates: requests from the same confirmed email address for the same right (and the
same matter: the same deceased, changes, purposes; `SAME_DETAILS`), one of them arriving
while the other was open. The case page links them both ways; a handler
may merge one into the other: it is completed, pointing at the request that answers for
it (`merged_into_id`), its unfinished tasks cancelled and its person told. Each merge is
an audit event on both requests.
"""

from flask_babel import gettext as _
from sqlalchemy import or_, select

from dsr import audit, mail, notify, operations
from dsr.case_decisions import Refused, check_undecided, record, stop_work
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.status import RequestStatus


def overlap(a: DataRequest, b: DataRequest, now) -> bool:
    """Whether both were confirmed and one was confirmed before the other closed."""
    if a.verified_at is None or b.verified_at is None:
        return False
    return a.verified_at <= (b.closed_at or now) and b.verified_at <= (a.closed_at or now)


#: what else two requests of a type must share to be the same request twice: the deceased
#: a notice is about, the changes asked, the purposes or processing objected to
SAME_DETAILS = {
    "post_mortem": ("mode", "deceased_email"),
    "rectification": ("changes",),
    "consent_withdrawal": ("purposes",),
    "objection": ("basis", "processing"),
    "portability": ("recipient_email",),
}


def same_matter(a: DataRequest, b: DataRequest) -> bool:
    keys = SAME_DETAILS.get(a.type, ())
    first, second = a.details or {}, b.details or {}
    return all(
        str(first.get(key, "")).strip().lower() == str(second.get(key, "")).strip().lower()
        for key in keys
    )


def linked(request: DataRequest) -> list[DataRequest]:
    """The request's duplicates, oldest first: those merged into it or it into, and the
    other requests of its address and type whose time open overlapped its own."""
    if request.verified_at is None and request.merged_into_id is None:
        return []
    merged = (DataRequest.merged_into_id == request.id) | (DataRequest.id == request.merged_into_id)
    if request.email:  # an anonymised request has none, and no duplicates by it
        same_person = (DataRequest.email == request.email) & (DataRequest.type == request.type)
        merged = or_(merged, same_person)
    candidates = db.session.scalars(
        select(DataRequest)
        .where(DataRequest.id != request.id, merged)
        .order_by(DataRequest.received_at)
    )
    now = utcnow()
    return [
        other
        for other in candidates
        if request.merged_into_id == other.id
        or other.merged_into_id == request.id
        or (overlap(request, other, now) and same_matter(request, other))
    ]


def mergeable_into(request: DataRequest, found: list[DataRequest] | None = None) -> list:
    """The duplicates (`found` by `linked`, or looked up) this request may be merged into:
    those still open, while it is too."""
    if request.status_enum.is_final:
        return []
    found = linked(request) if found is None else found
    return [other for other in found if not other.status_enum.is_final]


def merge(duplicate: DataRequest, into: DataRequest, *, actor: str) -> None:
    """Merge `duplicate` into `into` (its duplicate, still open); the caller commits, then
    calls `send_notice`."""
    check_undecided(duplicate)
    # held until the commit, so that `into` is not withdrawn or closed while this merges
    db.session.refresh(into, with_for_update=True)
    if into not in mergeable_into(duplicate):
        raise Refused(
            "not_a_duplicate",
            _("%(ref)s is not an open duplicate of this request.", ref=into.ref),
        )
    duplicate.merged_into_id = into.id
    record(duplicate, "closure", {"merged_into": into.ref}, actor)
    refs = {"duplicate": duplicate.ref, "into": into.ref}
    audit.record("duplicate.merged", actor=actor, request_id=duplicate.id, data=refs)
    audit.record("duplicate.merged", actor=actor, request_id=into.id, data=refs)
    stop_work(duplicate, actor, f"merged into {into.ref}")
    operations.transition_to(
        duplicate, RequestStatus.COMPLETED, actor=actor, reason=f"merged into {into.ref}"
    )


def send_notice(duplicate: DataRequest, into: DataRequest) -> None:
    mail.send_later(
        duplicate.id, "merged", into_ref=into.ref, into_status_url=notify.status_url(into)
    )
