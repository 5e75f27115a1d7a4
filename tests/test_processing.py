"""Processing without the demo systems: planning, auto-start, retries, callbacks, reconciliation.

Connectors here are the `manual` kind (a person answers) and a `webhook`
pointing at a closed loopback port (every attempt fails to connect): both real,
neither needs a process. The demo systems are in tests/test_access_flow.py.
"""

import copy
import io
import json
import time
from datetime import timedelta

import pytest
from conftest import free_port
from redis import Redis
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from connectors.signature import sign
from dsr import processing, results
from dsr.config import DEMO_CONFIG, load_instance
from dsr.extensions import db
from dsr.identity import claims
from dsr.models import AuditEvent, DataRequest, Task
from dsr.models.task import TaskStatus as T
from dsr.models.types import utcnow
from dsr.operations import InvalidTransition, create_request, verify
from dsr.status import RequestStatus as S

SECRET = "hook-secret"
DEMO = load_instance(str(DEMO_CONFIG))


def instance(**connectors) -> dict:
    config = copy.deepcopy(DEMO)
    config["connectors"] = connectors
    return config


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}/dsr"


@pytest.fixture(autouse=True)
def hook_secret(monkeypatch):
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)


def hook(url=None, **settings) -> dict:
    return {
        "kind": "webhook",
        "url": url or closed_url(),
        "secret_env": "TEST_HOOK_SECRET",
        "retries": 2,
        "backoff": 0,
        "timeout": 2,
        **settings,
    }


MANUAL = {"kind": "manual", "label": "Paper archive"}


def new_request(app, type_="access", details=None, *, proven=False, **identifiers) -> int:
    """A verified request, as the subject leaves it after confirming; returns its id.

    `proven`: a handler held its identifiers proven before it was confirmed.
    """
    with app.app_context():
        request = create_request(
            {
                "type": type_,
                "email": "Alice@Example.org",
                "name": "Alice Martin",
                "identifiers": identifiers,
                "details": details or {},
                "language": "en",
            }
        )
        for ident in claims.identifiers(request) if proven else []:
            claims.prove_by_handler(request, ident.kind, ident.value, note="seen", actor="staff:t")
        verify(request, request.verify_nonce)
        db.session.commit()
        if processing.starts_itself(request):
            processing.start(request, actor="system")
        return request.id


def state(app, request_id):
    with app.app_context():
        request = db.session.get(DataRequest, request_id)
        tasks = {t.connector: t for t in request.tasks}
        return request.status, {
            name: (t.status, t.attempts, t.last_error) for name, t in tasks.items()
        }


def events(app, request_id) -> list[str]:
    with app.app_context():
        query = select(AuditEvent.kind).where(AuditEvent.request_id == request_id)
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


# --- planning and starting ------------------------------------------------


def test_access_without_connectors_goes_straight_to_review(make_app):
    app = make_app(INSTANCE=instance())
    request_id = new_request(app)
    status, tasks = state(app, request_id)
    assert status == S.REVIEW and tasks == {}
    assert events(app, request_id)[-2:] == ["processing.planned", "status.changed"]


def test_a_manual_task_waits_for_the_handlers_outcome(make_app, run_jobs):
    app = make_app(INSTANCE=instance(archive=MANUAL))
    request_id = new_request(app)
    assert state(app, request_id) == (S.PROCESSING, {"archive": (T.QUEUED, 0, None)})
    run_jobs(app)
    assert state(app, request_id) == (S.PROCESSING, {"archive": (T.WAITING_CALLBACK, 1, None)})
    with app.app_context():
        task = db.session.scalars(select(Task)).one()
        processing.record_outcome(task, succeeded=True, note="no file found", actor="staff:a@b.c")
        assert task.outcome == "no file found"
    assert state(app, request_id) == (S.REVIEW, {"archive": (T.SUCCEEDED, 1, None)})


def test_a_system_that_cannot_match_the_subject_is_skipped(make_app):
    app = make_app(INSTANCE=instance(sms={**MANUAL, "match_on": ["phone"]}, archive=MANUAL))
    request_id = new_request(app)
    status, tasks = state(app, request_id)
    assert tasks["sms"][0] == T.SKIPPED and tasks["archive"][0] == T.QUEUED
    with app.app_context():
        sms = db.session.scalars(select(Task).where(Task.connector == "sms")).one()
        assert "phone" in sms.outcome
    phone_request = new_request(app, phone="06 39 98 00 01")  # claimed, never proven
    assert state(app, phone_request)[1]["sms"][0] == T.SKIPPED
    with app.app_context():
        sms = db.session.get(DataRequest, phone_request).tasks[-1]
        assert sms.connector == "sms" and "phone given is not proven yet" in sms.outcome
    proven_request = new_request(app, proven=True, phone="06 39 98 00 01")
    assert state(app, proven_request)[1]["sms"][0] == T.QUEUED


def test_a_system_that_does_not_do_the_action_is_skipped_with_the_reason(make_app):
    app = make_app(INSTANCE=instance(archive=MANUAL, eraser={**MANUAL, "actions": ["erase"]}))
    request_id = new_request(app)
    tasks = state(app, request_id)[1]
    assert tasks["eraser"][0] == T.SKIPPED and tasks["archive"][0] != T.SKIPPED
    with app.app_context():
        [eraser] = [
            t for t in db.session.get(DataRequest, request_id).tasks if t.connector == "eraser"
        ]
        assert eraser.outcome == "this system does not support 'access'"


@pytest.mark.parametrize(
    ("type_", "details", "starts"),
    [
        ("access", {}, True),
        ("erasure", {"scope": "all"}, False),
        ("objection", {"basis": "direct_marketing"}, True),
        ("objection", {"basis": "particular_situation", "processing": "x", "grounds": "y"}, False),
    ],
)
def test_which_requests_start_by_themselves(make_app, type_, details, starts):
    app = make_app(INSTANCE=instance(archive=MANUAL))
    request_id = new_request(app, type_, details)
    assert (state(app, request_id)[0] != S.OPEN) is starts


def test_the_instance_decides_which_types_start_by_themselves(make_app):
    config = instance(archive=MANUAL)
    config["processing"]["auto_start"] = ["erasure"]
    app = make_app(INSTANCE=config)
    assert state(app, new_request(app, "access"))[0] == S.OPEN
    assert state(app, new_request(app, "erasure", {"scope": "all"}))[0] != S.OPEN


def test_a_waiting_request_starts_when_a_handler_says_so_and_only_once(make_app):
    app = make_app(INSTANCE=instance(archive=MANUAL))
    request_id = new_request(app, "erasure", {"scope": "all"})
    with app.app_context():
        request = db.session.get(DataRequest, request_id)
        tasks = processing.start(request, actor="staff:h@example.org")
        assert [(t.connector, t.action) for t in tasks] == [("archive", "erase")]
        with pytest.raises(InvalidTransition):
            processing.start(request, actor="staff:h@example.org")


# --- retries and failure --------------------------------------------------


def test_a_failing_system_is_retried_then_fails_with_its_error(make_app, run_jobs):
    app = make_app(INSTANCE=instance(hook=hook(retries=2), archive=MANUAL))
    request_id = new_request(app)
    run_jobs(app)
    status, tasks = state(app, request_id)
    hook_status, attempts, error = tasks["hook"]
    assert (hook_status, attempts) == (T.FAILED, 3)
    assert "hook" in error and ("refused" in error or "connect" in error)
    assert tasks["archive"][0] == T.WAITING_CALLBACK  # the other task was not affected
    assert status == S.PROCESSING
    assert events(app, request_id).count("task.attempt_failed") == 2
    assert "task.failed" in events(app, request_id)


def test_a_failed_task_can_be_retried_by_a_handler(make_app, run_jobs):
    app = make_app(INSTANCE=instance(hook=hook(retries=0)))
    request_id = new_request(app)
    run_jobs(app)
    status, tasks = state(app, request_id)
    assert status == S.REVIEW and tasks["hook"][:2] == (T.FAILED, 1)
    with app.app_context():
        task = db.session.scalars(select(Task)).one()
        processing.retry(task, actor="staff:h@example.org")
        assert task.request.status == S.PROCESSING
        with pytest.raises(processing.NotAllowed):
            processing.retry(task, actor="staff:h@example.org")  # queued, not failed
    assert state(app, request_id)[1]["hook"][:2] == (T.QUEUED, 0)
    run_jobs(app)
    assert state(app, request_id)[0] == S.REVIEW
    assert "task.retried" in events(app, request_id)


# --- callbacks ------------------------------------------------------------


@pytest.fixture
def waiting(make_app):
    """A request whose webhook task was accepted by its system and now waits for the callback."""
    app = make_app(INSTANCE=instance(hook=hook()), CALLBACK_MAX_BYTES=4096)
    request_id = new_request(app)
    with app.app_context():
        task = db.session.scalars(select(Task)).one()
        db.session.execute(
            update(Task).values(status=T.WAITING_CALLBACK, attempts=1, waiting_since=utcnow())
        )
        db.session.commit()
        Redis.from_url(app.config["REDIS_URL"]).flushdb()  # the job is done with
        return app, request_id, task.id


def post_callback(client, task_id, body, secret=SECRET, age=0, header=None):
    """POST a callback signed `age` seconds ago (with `secret`), or with `header` as it is."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = int(time.time()) - age
    headers = {"Content-Type": "application/json"}
    signature = header if header is not None else sign(secret, raw, timestamp)
    if signature:
        headers["X-DSR-Signature"] = signature
    return client.post(f"/api/v1/callbacks/{task_id}", data=raw, headers=headers)


ANSWER = {
    "status": "succeeded",
    "records": {"contacts": [{"phone": "+33639980001"}], "messages": [{"n": 1}, {"n": 2}]},
    "outcome": "found 1 contact",
}


def test_a_signed_callback_completes_the_task_and_the_request(waiting):
    app, request_id, task_id = waiting
    response = post_callback(app.test_client(), task_id, ANSWER)
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "accepted",
        "task": task_id,
        "task_status": "succeeded",
    }
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert task.status == T.SUCCEEDED and task.record_counts == {"contacts": 1, "messages": 2}
        assert task.outcome == "found 1 contact"
        assert results.preview(task) == ANSWER["records"]
        assert task.request.status == S.REVIEW
    again = post_callback(app.test_client(), task_id, {"status": "failed", "error": "late"})
    assert again.status_code == 200 and again.get_json()["status"] == "already_finished"
    assert state(app, request_id)[1]["hook"][0] == T.SUCCEEDED


def test_a_failed_answer_fails_the_task_with_the_systems_error(waiting):
    app, request_id, task_id = waiting
    response = post_callback(app.test_client(), task_id, {"status": "failed", "error": "db down"})
    assert response.status_code == 200
    assert state(app, request_id) == (S.REVIEW, {"hook": (T.FAILED, 1, "db down")})


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ({"secret": "wrong-secret"}, "invalid_signature"),
        ({"age": 301}, "invalid_signature"),
        ({"age": -301}, "invalid_signature"),
        ({"header": ""}, "invalid_signature"),
        ({"header": "t=abc,v1=00"}, "invalid_signature"),
    ],
)
def test_a_callback_with_a_bad_signature_changes_nothing(waiting, how, code):
    app, request_id, task_id = waiting
    before = events(app, request_id)
    response = post_callback(app.test_client(), task_id, ANSWER, **how)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == code
    assert state(app, request_id) == (S.PROCESSING, {"hook": (T.WAITING_CALLBACK, 1, None)})
    assert events(app, request_id) == before


def test_a_callback_signed_over_another_body_is_refused(waiting):
    app, request_id, task_id = waiting
    signature = sign(SECRET, json.dumps(ANSWER).encode())
    tampered = json.dumps({**ANSWER, "records": {}}).encode()
    response = post_callback(app.test_client(), task_id, tampered, header=signature)
    assert response.status_code == 401
    assert state(app, request_id)[1]["hook"][0] == T.WAITING_CALLBACK


def test_a_callback_for_an_unknown_task_is_404(waiting):
    app, _request_id, _task_id = waiting
    response = post_callback(app.test_client(), "no-such-task", ANSWER)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_task"


def test_a_malformed_answer_is_refused_and_changes_nothing(waiting):
    app, request_id, task_id = waiting
    for body in (b"{not json", {"status": "done"}, {"status": "succeeded", "records": [1]}):
        response = post_callback(app.test_client(), task_id, body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["code"] == "malformed_answer"
    assert state(app, request_id)[1]["hook"] == (T.WAITING_CALLBACK, 1, None)
    with app.app_context():
        folder = results.request_folder(db.session.get(DataRequest, request_id).ref)
        assert not [path for path in folder.rglob("*") if path.is_file()]


def test_a_callback_over_the_size_limit_is_413(waiting):
    app, request_id, task_id = waiting
    big = {"status": "succeeded", "records": {"t": [{"x": "y" * 100}] * 100}}
    response = post_callback(app.test_client(), task_id, big)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    raw = json.dumps(big).encode()

    response = app.test_client().post(  # chunked, no Content-Length: the limit holds while reading
        f"/api/v1/callbacks/{task_id}",
        input_stream=io.BytesIO(raw),
        environ_overrides={"wsgi.input_terminated": True},
        headers={"X-DSR-Signature": sign(SECRET, raw), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert state(app, request_id)[1]["hook"][0] == T.WAITING_CALLBACK


# --- reconciliation -------------------------------------------------------


def test_tasks_whose_jobs_vanished_are_enqueued_again(make_app, run_jobs):
    app = make_app(INSTANCE=instance(archive=MANUAL, other=MANUAL))
    request_id = new_request(app)
    Redis.from_url(app.config["REDIS_URL"]).flushdb()  # Redis restarted empty
    run_jobs(app)
    assert {s for s, _a, _e in state(app, request_id)[1].values()} == {T.QUEUED}
    with app.app_context():
        assert processing.reconcile() == {
            "requeued": 2,
            "timed_out": 0,
            "reviewed": 0,
            "releases": 0,
        }
        assert processing.reconcile()["requeued"] == 0  # their jobs are back
    run_jobs(app)
    assert {s for s, _a, _e in state(app, request_id)[1].values()} == {T.WAITING_CALLBACK}
    assert events(app, request_id).count("task.requeued") == 2


def test_a_task_left_pending_by_a_failed_enqueue_is_picked_up(make_app, run_jobs):
    app = make_app(INSTANCE=instance(archive=MANUAL))
    request_id = new_request(app)
    with app.app_context():
        db.session.execute(update(Task).values(status=T.PENDING))
        db.session.commit()
        Redis.from_url(app.config["REDIS_URL"]).flushdb()
        assert processing.reconcile()["requeued"] == 0  # still within its grace minute
        later = utcnow() + timedelta(minutes=2)
        assert processing.reconcile(now=later)["requeued"] == 1
    run_jobs(app)
    assert state(app, request_id)[1]["archive"][0] == T.WAITING_CALLBACK


def test_a_task_that_finishes_while_the_reconciliation_looks_is_left_alone(make_app):
    """Found without a job, finished by another process before it is requeued: not dispatched."""
    app = make_app(INSTANCE=instance(archive=MANUAL))
    request_id = new_request(app)
    redis = Redis.from_url(app.config["REDIS_URL"])
    redis.flushdb()  # its job is lost

    def finished_meanwhile(_session):  # right after the reconciliation read its candidates
        with db.engine.begin() as other:
            other.execute(update(Task).values(status=T.SUCCEEDED, finished_at=utcnow()))

    with app.app_context():
        task_id = db.session.scalars(select(Task.id)).one()
        event.listen(Session, "after_commit", finished_meanwhile, once=True)
        try:
            done = processing.reconcile()
        finally:
            if event.contains(Session, "after_commit", finished_meanwhile):
                event.remove(Session, "after_commit", finished_meanwhile)
    assert done["requeued"] == 0
    assert not redis.exists(f"rq:job:{task_id}")  # no job enqueued for it
    assert state(app, request_id)[1]["archive"][0] == T.SUCCEEDED
    assert "task.requeued" not in events(app, request_id)


def test_a_callback_that_never_comes_fails_its_task(waiting):
    app, request_id, task_id = waiting
    with app.app_context():
        assert processing.reconcile()["timed_out"] == 0
        eight_days = utcnow() + timedelta(days=8)
        assert processing.reconcile(now=eight_days)["timed_out"] == 1
    status, tasks = state(app, request_id)
    assert status == S.REVIEW
    assert tasks["hook"] == (T.FAILED, 1, "no answer from hook within 7 days")


def test_results_are_files_per_task_and_table_and_go_with_the_case(waiting):
    app, request_id, task_id = waiting
    post_callback(app.test_client(), task_id, ANSWER)
    with app.app_context():
        request = db.session.get(DataRequest, request_id)
        task = db.session.get(Task, task_id)
        folder = results.task_folder(task)
        assert sorted(p.name for p in folder.iterdir()) == ["contacts.jsonl", "messages.jsonl"]
        assert list(results.records(task, "messages")) == [{"n": 1}, {"n": 2}]
        db.session.delete(request)
        db.session.rollback()
        assert folder.exists()  # a deletion rolled back keeps the files
        db.session.delete(db.session.get(DataRequest, request_id))
        db.session.commit()
        assert not results.request_folder(request.ref).exists()
        assert db.session.get(Task, task_id) is None
