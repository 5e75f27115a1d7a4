"""What each process of tests/test_concurrency.py does, in a process of its own.

The processes are started with `spawn` (a fresh interpreter, nothing shared
with pytest's) and reused from test to test. Each job builds its own app, so
its own database connections, on the settings it is given, waits at a barrier
until every process of the test is ready, then does its share and returns
what it saw.
"""

import os

from dsr import audit, create_app, processing, staff
from dsr.db import ping
from dsr.extensions import db
from dsr.identity import claims, codes
from dsr.models import DataRequest, Task

#: set in each process when it starts (a barrier can only be inherited, not sent)
_barrier = None
#: seconds a process waits for the others at the barrier
BARRIER_TIMEOUT = 60


def start_process(barrier) -> None:
    """The pool's initializer: the environment of a development app, and the barrier."""
    global _barrier
    os.environ["DSR_ENV"] = "development"
    _barrier = barrier


def run(settings: dict, work: str, *args):
    """Build an app on `settings`, wait for the other processes, then do `work(*args)`."""
    app = create_app(settings)
    try:
        with app.app_context():
            assert ping(), "the database does not answer"  # connected before the start
            db.session.rollback()
            _barrier.wait(BARRIER_TIMEOUT)
            return WORK[work](app, *args)
    finally:
        with app.app_context():
            db.engine.dispose()
        app.extensions["dsr.redis"].close()


def submit_requests(app, emails: list[str]) -> list[str]:
    """POST each request to the intake API; the references given."""
    client = app.test_client()
    refs = []
    for email in emails:
        body = {"type": "access", "email": email, "name": "Par Allèle", "language": "fr"}
        response = client.post("/api/v1/requests", json={**body, "identifiers": {}, "details": {}})
        assert response.status_code == 201, response.get_data(as_text=True)
        refs.append(response.get_json()["ref"])
    return refs


def claim_tasks(_app, task_ids: list[str]) -> list[str]:
    """Claim each task as a worker's job does; the ids this process got to run."""
    return [task_id for task_id in task_ids if processing.claim(task_id) is not None]


def finish_tasks(_app, task_ids: list[str]) -> int:
    """Finish each task as a connector's success does, each in its own transaction."""
    for task_id in task_ids:
        processing.succeed(db.session.get(Task, task_id), {}, "done", actor="test")
    return len(task_ids)


def sign_in(_app, email: str, password: str, attempts: int) -> list[bool]:
    """Sign in `attempts` times, each in its own transaction; whether each succeeded."""
    outcomes = []
    for _ in range(attempts):
        outcomes.append(staff.authenticate(email, password) is not None)
        db.session.commit()
    return outcomes


def append_events(_app, count: int, writer: int) -> int:
    """Append `count` audit events, each in its own transaction."""
    for n in range(count):
        audit.record("test.parallel", actor="system", data={"writer": writer, "n": n})
        db.session.commit()
    return count


def guess_codes(_app, request_id: int, phone: str, code: str, attempts: int) -> list[str]:
    """Enter `code` for the request's phone `attempts` times, as the status page's form does,
    each in its own transaction; what each got: "right", "wrong" or "refused"."""
    outcomes = []
    for _ in range(attempts):
        claim = claims.claim_for(db.session.get(DataRequest, request_id), "phone", phone)
        try:
            outcomes.append("right" if codes.check(claim, code) else "wrong")
            db.session.commit()
        except codes.CodeRefused:
            db.session.rollback()
            outcomes.append("refused")
    return outcomes


WORK = {
    "submit_requests": submit_requests,
    "claim_tasks": claim_tasks,
    "finish_tasks": finish_tasks,
    "sign_in": sign_in,
    "append_events": append_events,
    "guess_codes": guess_codes,
}
