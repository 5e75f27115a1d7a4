"""Requests in review with stored results, and the helpers that release and open their
answers: shared by the release, portability and flow tests."""

from conftest import csrf_token
from fixtures_staff import new_case
from sqlalchemy import select

from dsr import audit, results
from dsr.extensions import db
from dsr.models import DataRequest, Task, TaskStatus
from dsr.processing import finish_if_done

CRM = {
    "contacts": [
        {"email": "alice@example.org", "name": "Alice Martin"},
        {"email": "alice@example.org", "name": "Bob's note about Alice", "by": "bob"},
    ],
    "notes": [{"text": "called, asked about the invoice"}],
}
BILLING = {"invoices": [{"number": "F-0001", "amount": 12.5}]}


def in_review(
    app, systems=None, language="en", *, type_: str = "access", details: dict | None = None
) -> str:
    """A request of `type_` in review whose tasks returned `systems`' tables."""
    systems = {"crm": CRM, "billing": BILLING} if systems is None else systems
    ref = new_case(app, "processing", type_=type_, details=details)
    with app.app_context():
        req = by_ref(ref)
        req.language = language
        for connector in systems:
            req.tasks.append(Task(connector=connector, action="access"))
        db.session.commit()
        for task in req.tasks:
            write_results(task, systems[task.connector])
        finish_if_done(req)
        db.session.commit()
        assert req.status == "review"
    return ref


def write_results(task: Task, tables: dict) -> None:
    task.status = TaskStatus.SUCCEEDED
    with results.writer(task) as sink:
        for table, records in tables.items():
            for record in records:
                sink.write(table, record)
        task.record_counts = sink.commit()
    db.session.commit()


def by_ref(ref: str) -> DataRequest:
    return db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()


def kinds(app, ref: str) -> list[str]:
    with app.app_context():
        return [event.kind for event in audit.events_for(by_ref(ref).id)]


def case_url(ref: str) -> str:
    return f"/staff/requests/{ref}"


def press(client, ref: str, action: str = "release"):
    """A case page's button (release, transmit), with its CSRF token."""
    token = csrf_token(client, case_url(ref))
    return client.post(f"{case_url(ref)}/{action}", data={"csrf_token": token})


def manual_system(label: str, *actions: str) -> dict:
    """A `manual` connector (a person does the work, a handler records the outcome): a
    system for tests that need no process; it finds people by email."""
    return {"kind": "manual", "label": label, "actions": list(actions), "match_on": ["email"]}
