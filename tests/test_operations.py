"""State changes: references, transitions, the clock's pauses, expiry of unverified requests."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from dsr import operations, queue
from dsr.extensions import db
from dsr.models import AuditEvent, DataRequest
from dsr.periodic import expire_unverified_job
from dsr.status import RequestStatus as S

PAYLOAD = {
    "type": "access",
    "email": "Alice@Example.org",
    "name": "Alice",
    "identifiers": {},
    "details": {},
    "language": "fr",
}


def create(**changes) -> DataRequest:
    request = operations.create_request({**PAYLOAD, **changes})
    db.session.commit()
    return request


def test_references_are_sequential_per_year(app):
    with app.app_context():
        first, second = create(), create()
        year = first.received_at.year
        assert first.ref == f"DSR-{year}-000001"
        assert second.ref == f"DSR-{year}-000002"


def test_created_request_is_unverified_with_a_due_date_and_an_event(app):
    with app.app_context():
        request = create()
        assert request.status == S.UNVERIFIED
        assert request.email == "alice@example.org"
        assert request.due_at > request.received_at + timedelta(days=27)
        kinds = db.session.scalars(
            select(AuditEvent.kind).where(AuditEvent.request_id == request.id)
        )
        assert list(kinds) == ["request.created"]


def test_verify_opens_once(app):
    with app.app_context():
        request = create()
        nonce = request.verify_nonce
        operations.verify(request, nonce)
        db.session.commit()
        assert request.status == S.OPEN and request.verified_at is not None
        with pytest.raises(operations.LinkAlreadyUsed):
            operations.verify(request, nonce)


def test_transition_table_is_enforced(app):
    with app.app_context():
        request = create()
        with pytest.raises(operations.InvalidTransition):
            operations.transition_to(request, S.COMPLETED, actor="system")
        operations.withdraw(request)
        db.session.commit()
        assert request.closed_at is not None
        with pytest.raises(operations.InvalidTransition):
            operations.withdraw(request)


def test_awaiting_the_subject_pauses_the_clock(app):
    with app.app_context():
        request = create()
        operations.verify(request, request.verify_nonce)
        due = request.due_at
        operations.transition_to(request, S.AWAITING_SUBJECT, actor="staff:dpo@example.org")
        db.session.commit()
        pause = request.pauses[-1]
        pause.started_at -= timedelta(days=5)  # as if the subject took five days to answer
        operations.transition_to(request, S.OPEN, actor="subject")
        db.session.commit()
        assert pause.ended_at is not None
        assert request.due_at - due >= timedelta(days=5)
        assert request.due_at - due < timedelta(days=9)  # five days, then the next working day


def test_expiry_job_run_by_the_worker(app, run_jobs):
    with app.app_context():
        old, fresh = create(), create(email="bob@example.org")
        old.received_at -= timedelta(days=8)
        db.session.commit()
        old_id, fresh_id = old.id, fresh.id
        queue.enqueue(expire_unverified_job)
    run_jobs()
    with app.app_context():
        assert db.session.get(DataRequest, old_id).status == S.EXPIRED
        assert db.session.get(DataRequest, fresh_id).status == S.UNVERIFIED
