"""Retention: results go after RESULTS_RETENTION_DAYS, requests are anonymised after
REQUESTS_RETENTION_DAYS, through `flask dsr purge` and the daily job; the chain still verifies."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from dsr import audit, keys, periodic, results
from dsr.extensions import db
from dsr.identity import claims
from dsr.models import AuditEvent, DataRequest, IdentityClaim, Task
from dsr.models.types import utcnow
from dsr.operations import create_request, withdraw

EMAIL = "camille.durand@example.org"


def closed_request(app, *, days_ago: int | None, error: str | None = None) -> str:
    """A request with one task and its result file, closed `days_ago` (None: still open)."""
    with app.app_context():
        request = create_request(
            {
                "type": "access",
                "email": EMAIL,
                "name": "Camille Durand",
                "identifiers": {"phone": ["+33639980001"]},
                "details": {"note": "my trips of 2025"},
                "language": "fr",
            }
        )
        task = Task(connector="crm", action="access", last_error=error, outcome=f"found {EMAIL}")
        task.details = {"changes": [{"field": "contacts.email", "old": EMAIL, "new": "x@y.org"}]}
        request.tasks.append(task)
        request.decisions = {"objection": {"upheld": False, "reasoning": f"{EMAIL} is a fraud"}}
        claims.prove_by_handler(
            request, "phone", "+33639980001", note="bill shown", actor="staff:ana@staff.example"
        )
        db.session.commit()
        with results.writer(task) as sink:
            sink.write("contacts", {"email": EMAIL})
            task.record_counts = sink.commit()
        if days_ago is not None:
            withdraw(request)
            request.closed_at = utcnow() - timedelta(days=days_ago)
        db.session.commit()
        return request.ref


def by_ref(app, ref) -> DataRequest:
    with app.app_context():
        request = db.session.scalar(select(DataRequest).where(DataRequest.ref == ref))
        db.session.expunge(request)
        return request


def folder_of(app, ref):
    with app.app_context():
        return results.request_folder(ref)


@pytest.fixture
def cases(app):
    """Four requests: results due, anonymisation due, closed yesterday, never closed."""
    return {
        "results_due": closed_request(app, days_ago=31),
        "anonymise_due": closed_request(app, days_ago=1827, error=f"no contact {EMAIL}"),
        "recent": closed_request(app, days_ago=1),
        "open": closed_request(app, days_ago=None),
    }


def snapshot(app, cases) -> dict:
    with app.app_context():
        rows = db.session.scalars(select(DataRequest).order_by(DataRequest.id))
        state = {r.ref: (r.email, r.data_key, r.results_deleted_at, r.anonymised_at) for r in rows}
        events = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    return {
        "rows": state,
        "events": events,
        "folders": {ref: folder_of(app, ref).exists() for ref in cases.values()},
    }


def test_dry_run_lists_what_would_go_and_changes_nothing(app, runner, cases):
    before = snapshot(app, cases)
    result = runner.invoke(args=["dsr", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    due, old = cases["results_due"], cases["anonymise_due"]
    assert result.output.splitlines() == [
        f"would delete the results of 2 request(s): {due}, {old}",
        f"would anonymise 1 request(s): {old}",
    ]
    assert snapshot(app, cases) == before


def test_purge_deletes_results_and_keys_then_anonymises_keeping_the_chain(app, runner, cases):
    result = runner.invoke(args=["dsr", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == f"anonymised 1 request(s): {cases['anonymise_due']}"

    due = by_ref(app, cases["results_due"])
    assert not folder_of(app, due.ref).exists()
    assert due.data_key is None and due.results_deleted_at is not None
    assert due.email == EMAIL and due.anonymised_at is None  # the row's own period runs on

    gone = by_ref(app, cases["anonymise_due"])
    assert not folder_of(app, gone.ref).exists()
    assert (gone.email, gone.name, gone.identifiers, gone.details) == ("", "", {}, {})
    assert gone.decisions == {}  # a handler's reasons may quote the person
    assert gone.data_key is None and gone.verify_nonce is None and gone.anonymised_at is not None
    assert (gone.type, gone.status, gone.received_at) != (None, None, None)  # the tombstone
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.request_id == gone.id))
        assert (task.last_error, task.outcome, task.record_counts) == (None, None, {"contacts": 1})
        assert task.details == {}  # what the system was told: corrected values
        # the proven phone number goes too; the chain never held it
        assert db.session.scalars(select(IdentityClaim.request_id)).all().count(gone.id) == 0

    for ref in (cases["recent"], cases["open"]):
        kept = by_ref(app, ref)
        assert folder_of(app, ref).exists() and kept.data_key and kept.email == EMAIL

    verified = runner.invoke(args=["dsr", "audit", "verify"])
    assert verified.exit_code == 0 and "audit chain intact" in verified.output


def test_purges_are_audit_events_and_no_event_holds_the_persons_data(app, runner, cases):
    runner.invoke(args=["dsr", "purge"])
    with app.app_context():
        gone = db.session.scalar(
            select(DataRequest).where(DataRequest.ref == cases["anonymise_due"])
        )
        kinds = [
            (e.kind, e.data) for e in audit.events_for(gone.id) if e.kind.startswith("retention")
        ]
        assert kinds == [
            ("retention.results_deleted", {"files": 1, "after_days": 30}),
            ("retention.anonymised", {"after_days": 1826}),
        ]
        for event in db.session.scalars(select(AuditEvent)):
            canonical = audit.canonical(event).decode()
            assert "camille" not in canonical.lower() and "+33639980001" not in canonical


def test_the_daily_job_does_the_same_and_a_second_run_finds_nothing(app, cases):
    with app.app_context():
        assert periodic.retention_job() == {"results_deleted": 2, "anonymised": 1}
        assert periodic.retention_job() == {"results_deleted": 0, "anonymised": 0}
        assert audit.verify_chain().ok
    assert folder_of(app, cases["recent"]).exists()
    assert by_ref(app, cases["recent"]).anonymised_at is None


def test_the_periods_come_from_the_settings(make_app):
    app = make_app(RESULTS_RETENTION_DAYS=400, REQUESTS_RETENTION_DAYS=2000)
    ref = closed_request(app, days_ago=1827)
    with app.app_context():
        assert periodic.retention_job() == {"results_deleted": 1, "anonymised": 0}
    assert by_ref(app, ref).email == EMAIL


def test_a_late_result_after_the_purge_finds_no_key(app, cases):
    with app.app_context():
        periodic.retention_job()
        task = db.session.scalar(
            select(Task).join(DataRequest).where(DataRequest.ref == cases["results_due"])
        )
        with pytest.raises(keys.KeyUnavailable, match="results were deleted"):
            results.writer(task)


def test_the_case_page_says_the_results_and_the_personal_data_went(
    app, runner, cases, viewer_client
):
    runner.invoke(args=["dsr", "purge"])
    page = viewer_client.get(f"/staff/requests/{cases['anonymise_due']}").get_data(as_text=True)
    assert "as the retention period for results requires" in page
    assert "at the end of the retention period" in page and EMAIL not in page
