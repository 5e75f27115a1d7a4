"""The steps of an access request end to end, for the tests that run the demo systems
(`engine`, in tests/fixtures_demo.py): the subject's way in, a handler's proofs, and
waiting for the engine."""

import time

from conftest import csrf_token, links_in_outbox
from sqlalchemy import select

from dsr.extensions import db
from dsr.identity import claims
from dsr.models import DataRequest, Task


def submit_and_confirm(
    app,
    run_jobs,
    person=None,
    email=None,
    *,
    proven: bool = False,
    language: str = "fr",
    type_: str = "access",
    details: dict | None = None,
    **identifiers,
) -> str:
    """The subject's way in: the API, the emailed link, the confirm button; returns the ref.

    `proven`: a handler holds the identifiers proven before the person confirms (systems
    match on proven identifiers only).
    """
    client = app.test_client()
    payload = {
        "type": type_,
        "email": email or person.email,
        "name": f"{person.first_name} {person.last_name}" if person else "Nobody Known",
        "identifiers": identifiers,
        "details": details or {},
        "language": language,
    }
    created = client.post("/api/v1/requests", json=payload)
    assert created.status_code == 201, created.get_json()
    if proven:
        prove_all(app, created.get_json()["ref"])
    run_jobs(app)  # the confirmation email
    link = links_in_outbox(app, "/verify/")[-1]
    path = link.split("://", 1)[1].split("/", 1)[1]
    confirmed = client.post(f"/{path}", data={"csrf_token": csrf_token(client, f"/{path}")})
    assert confirmed.status_code == 303
    return created.get_json()["ref"]


def prove_all(app, ref: str) -> None:
    with app.app_context():
        request = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        for ident in claims.identifiers(request):
            claims.prove_by_handler(
                request, ident.kind, ident.value, note="seen", actor="staff:test@staff.example"
            )
        db.session.commit()


def wait_for_status(app, ref: str, status: str, seconds: float = 15) -> DataRequest:
    deadline = time.monotonic() + seconds
    while True:
        with app.app_context():
            request = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
            if request.status == status or time.monotonic() > deadline:
                assert request.status == status, [(t.connector, t.status) for t in request.tasks]
                return request
        time.sleep(0.1)


def select_ref(ref: str):
    return select(DataRequest).where(DataRequest.ref == ref)


def tasks_of(app, ref: str) -> dict[str, Task]:
    with app.app_context():
        request = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        return {task.connector: task for task in request.tasks}
