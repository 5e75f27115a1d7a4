"""Callbacks cannot be turned against the engine.

A signature is good for one task; an answer naming another task is refused;
a stranger without a good signature learns nothing and is slowed down. The
systems are `webhook` and `http` connectors whose tasks are set waiting by
hand (tests/test_processing.py does the same); the signatures are real.
"""

import json

import pytest
from redis import Redis
from sqlalchemy import select, update
from test_processing import (
    ANSWER,
    SECRET,
    closed_url,
    events,
    hook,
    hook_secret,  # noqa: F401 - the autouse fixture that sets the hook's secret
    instance,
    new_request,
    post_callback,
    state,
)

from connectors.signature import sign
from dsr import results
from dsr.extensions import db
from dsr.models import DataRequest, Task
from dsr.models.task import TaskStatus as T
from dsr.models.types import utcnow
from dsr.status import RequestStatus as S


def set_waiting(app) -> None:
    """Every task accepted by its system, now waiting for the callback; no job left."""
    with app.app_context():
        db.session.execute(
            update(Task).values(status=T.WAITING_CALLBACK, attempts=1, waiting_since=utcnow())
        )
        db.session.commit()
    Redis.from_url(app.config["REDIS_URL"]).flushdb()


def task_of(app, request_id) -> str:
    with app.app_context():
        return db.session.scalars(select(Task.id).where(Task.request_id == request_id)).one()


def files_of(app, request_id) -> list:
    with app.app_context():
        folder = results.request_folder(db.session.get(DataRequest, request_id).ref)
        return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
def two_waiting(make_app):
    """Two requests, each with a webhook task of the same system waiting for its answer."""
    app = make_app(INSTANCE=instance(hook=hook()), RATELIMIT_CALLBACK_FAILURES="1000 per minute")
    first, second = new_request(app), new_request(app)
    set_waiting(app)
    return app, first, second


def test_a_signature_accepted_for_one_task_is_refused_on_another(two_waiting):
    app, first, second = two_waiting
    raw = json.dumps(ANSWER).encode()
    header = sign(SECRET, raw)
    client = app.test_client()
    accepted = post_callback(client, task_of(app, first), raw, header=header)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    before = events(app, second)

    replayed = post_callback(client, task_of(app, second), raw, header=header)
    assert replayed.status_code == 401
    assert replayed.get_json()["error"]["code"] == "invalid_signature"
    assert "autre tâche" in replayed.get_json()["error"]["message"]  # French by default
    assert state(app, second) == (S.PROCESSING, {"hook": (T.WAITING_CALLBACK, 1, None)})
    assert files_of(app, second) == [] and events(app, second) == before


def test_the_same_signature_again_on_its_task_is_acknowledged(two_waiting):
    app, first, _second = two_waiting
    raw = json.dumps(ANSWER).encode()
    header = sign(SECRET, raw)
    client = app.test_client()
    assert post_callback(client, task_of(app, first), raw, header=header).status_code == 200
    before = events(app, first)
    again = post_callback(client, task_of(app, first), raw, header=header)
    assert again.status_code == 200
    assert again.get_json() == {"status": "already_finished", "task": task_of(app, first)}
    assert events(app, first) == before


def test_an_answer_naming_another_task_is_refused_and_changes_nothing(two_waiting):
    app, first, second = two_waiting
    raw = json.dumps({"task_id": task_of(app, first), **ANSWER}).encode()
    header = sign(SECRET, raw)
    client = app.test_client()
    refused = post_callback(client, task_of(app, second), raw, header=header)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "task_mismatch"
    assert state(app, second)[1]["hook"][0] == T.WAITING_CALLBACK
    assert files_of(app, second) == []
    # the refusal did not spend the signature: its own task still takes it
    accepted = post_callback(client, task_of(app, first), raw, header=header)
    assert accepted.status_code == 200 and accepted.get_json()["task_status"] == "succeeded"


def test_an_answer_naming_its_own_task_is_accepted(two_waiting):
    app, first, _second = two_waiting
    body = {"task_id": task_of(app, first), **ANSWER}
    response = post_callback(app.test_client(), task_of(app, first), body)
    assert response.status_code == 200 and response.get_json()["task_status"] == "succeeded"


# --- strangers ------------------------------------------------------------------


@pytest.fixture
def http_task(make_app):
    """A task of an `http` system (it answers at once, never through a callback)."""
    crm = {"kind": "http", "url": closed_url(), "secret_env": "TEST_HOOK_SECRET"}
    app = make_app(INSTANCE=instance(crm=crm), CALLBACK_MAX_BYTES=4096)
    request_id = new_request(app)
    return app, task_of(app, request_id)


def test_an_unsigned_callback_to_an_http_task_is_401(http_task):
    app, task_id = http_task
    response = post_callback(app.test_client(), task_id, ANSWER, header="")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"
    stale = post_callback(app.test_client(), task_id, ANSWER, age=301)
    assert stale.status_code == 401
    wrong = post_callback(app.test_client(), task_id, ANSWER, secret="not-the-secret")
    assert wrong.status_code == 401
    # only a system holding the secret learns that this task takes no callbacks
    signed = post_callback(app.test_client(), task_id, ANSWER)
    assert signed.status_code == 409 and signed.get_json()["error"]["code"] == "no_callbacks"


def test_an_unknown_task_is_named_only_to_a_system_that_signs(http_task):
    app, _task_id = http_task
    # a fresh, well-formed header that no system's secret made: nothing to learn
    probe = post_callback(app.test_client(), "no-such-task", ANSWER, secret="a-guess")
    assert probe.status_code == 401
    assert probe.get_json()["error"]["code"] == "invalid_signature"
    # a system signing with its own secret is told the task does not exist
    typo = post_callback(app.test_client(), "no-such-task", ANSWER)
    assert typo.status_code == 404 and typo.get_json()["error"]["code"] == "unknown_task"


def test_a_callback_without_a_signature_is_refused_before_anything_else(http_task):
    app, _task_id = http_task
    unknown = post_callback(app.test_client(), "no-such-task", ANSWER, header="")
    assert unknown.status_code == 401  # not 404: nothing is looked up for a stranger
    huge = post_callback(app.test_client(), "no-such-task", b"x" * 10_000, header="")
    assert huge.status_code == 401  # not 413: the body is not even considered


def test_a_manual_task_takes_no_signature(make_app, run_jobs):
    app = make_app(INSTANCE=instance(archive={"kind": "manual"}))
    request_id = new_request(app)
    run_jobs(app)
    response = post_callback(app.test_client(), task_of(app, request_id), ANSWER)
    assert response.status_code == 401  # a manual system has no secret: nothing it signs holds
    assert state(app, request_id)[1]["archive"][0] == T.WAITING_CALLBACK


def test_refused_signatures_are_rate_limited_per_address(make_app):
    app = make_app(INSTANCE=instance(hook=hook()), RATELIMIT_CALLBACK_FAILURES="3 per minute")
    request_id = new_request(app)
    set_waiting(app)
    task_id = task_of(app, request_id)
    client = app.test_client()
    for _ in range(2):  # good callbacks do not count
        assert post_callback(client, task_id, ANSWER).status_code == 200
    for _ in range(3):
        assert post_callback(client, task_id, ANSWER, secret="guess").status_code == 401
    limited = post_callback(client, task_id, ANSWER, secret="guess")
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) >= 1
    other = app.test_client().post(
        f"/api/v1/callbacks/{task_id}",
        data=b"{}",
        headers={"X-DSR-Signature": "t=1,v1=00"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 401  # another address has its own count
