"""Withdrawing a request stops it: its unfinished tasks are cancelled and nothing more is done.

The system is a `webhook` connector pointing at a real HTTP server on
loopback that records every notice it gets and accepts it (202), as the demo
SMS platform does; the engine's side is the real status page, worker and
callback endpoint. Rejection and expiry go through the same transition.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import csrf_token
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select, update
from test_processing import (
    ANSWER,
    events,
    hook,
    hook_secret,  # noqa: F401 - the autouse fixture that sets the hook's secret
    instance,
    new_request,
    post_callback,
)

from dsr import operations, processing, results, signing
from dsr.extensions import db
from dsr.models import DataRequest, Task
from dsr.models.task import TaskStatus as T
from dsr.models.types import utcnow
from dsr.queue import enqueue_many
from dsr.signing import Purpose
from dsr.status import RequestStatus as S


class NoticeRecorder:
    """A system on loopback that records the notices it receives and accepts them."""

    def __init__(self):
        self.notices: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.notices.append(json.loads(body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dsr"


@pytest.fixture
def system():
    recorder = NoticeRecorder()
    thread = threading.Thread(target=recorder.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield recorder
    recorder.server.shutdown()
    recorder.server.server_close()
    thread.join()


@pytest.fixture
def app(make_app, system):
    return make_app(INSTANCE=instance(hook=hook(url=system.url)))


def task_of(app, request_id) -> Task:
    with app.app_context():
        return db.session.scalars(select(Task).where(Task.request_id == request_id)).one()


def withdraw_on_the_status_page(app, request_id) -> None:
    client = app.test_client()
    with app.app_context():
        path = f"/status/{signing.sign(Purpose.STATUS, request_id)}"
    token = csrf_token(client, path)
    response = client.post(f"{path}/withdraw", data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 303


def test_withdrawing_before_the_worker_runs_means_the_system_is_never_called(app, run_jobs, system):
    request_id = new_request(app)
    task = task_of(app, request_id)
    assert task.status == T.QUEUED
    with app.app_context():
        assert Job.fetch(task.id, connection=Redis.from_url(app.config["REDIS_URL"]))

    withdraw_on_the_status_page(app, request_id)
    task = task_of(app, request_id)
    assert (task.status, task.finished_at is not None) == (T.CANCELLED, True)
    with pytest.raises(NoSuchJobError):  # its job left the queue with the commit
        Job.fetch(task.id, connection=Redis.from_url(app.config["REDIS_URL"]))
    run_jobs(app)
    assert system.notices == []
    assert task_of(app, request_id).status == T.CANCELLED
    assert "task.cancelled" in events(app, request_id)


def test_a_job_left_for_a_cancelled_task_does_nothing(app, run_jobs, system):
    """A duplicate job (Redis kept one the cancellation could not reach): the claim refuses it."""
    request_id = new_request(app)
    withdraw_on_the_status_page(app, request_id)
    with app.app_context():
        task = db.session.scalars(select(Task).where(Task.request_id == request_id)).one()
        enqueue_many([processing.job_spec(task)])
        assert processing.run_task_job(task.id) == "not waiting"
    run_jobs(app)
    assert system.notices == []
    assert task_of(app, request_id).attempts == 0


def test_withdrawing_while_a_callback_is_awaited_refuses_the_late_answer(app, run_jobs, system):
    request_id = new_request(app)
    run_jobs(app)
    assert len(system.notices) == 1
    task = task_of(app, request_id)
    assert task.status == T.WAITING_CALLBACK

    withdraw_on_the_status_page(app, request_id)
    assert task_of(app, request_id).status == T.CANCELLED
    late = post_callback(app.test_client(), task.id, ANSWER)
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "task_not_waiting"
    task = task_of(app, request_id)
    assert (task.status, task.record_counts, task.outcome) == (T.CANCELLED, {}, None)
    with app.app_context():
        ref = db.session.get(DataRequest, request_id).ref
        assert not [path for path in results.request_folder(ref).rglob("*") if path.is_file()]
    # the system retries the same answer: still nothing
    assert post_callback(app.test_client(), task.id, ANSWER).status_code in (200, 409)
    assert task_of(app, request_id).record_counts == {}


def test_rejection_cancels_the_work_too_and_finished_tasks_keep_their_status(make_app):
    app = make_app(INSTANCE=instance(hook=hook(), archive={"kind": "manual"}))
    request_id = new_request(app)
    with app.app_context():
        db.session.execute(
            update(Task)
            .where(Task.connector == "archive")
            .values(status=T.SUCCEEDED, finished_at=utcnow())
        )
        request = db.session.get(DataRequest, request_id)
        operations.transition_to(request, S.REJECTED, actor="staff:h@example.org", reason="test")
        db.session.commit()
        statuses = {t.connector: t.status for t in request.tasks}
    assert statuses == {"hook": T.CANCELLED, "archive": T.SUCCEEDED}


def test_the_pages_say_the_work_was_stopped(app, handler_client):
    request_id = new_request(app)
    withdraw_on_the_status_page(app, request_id)
    with app.app_context():
        request = db.session.get(DataRequest, request_id)
        ref, path = request.ref, f"/status/{signing.sign(Purpose.STATUS, request_id)}"
    case = handler_client.get(f"/staff/requests/{ref}").get_data(as_text=True)
    assert "Cancelled (the request was closed)" in case
    page = app.test_client().get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "We stopped the work that was still under way in our systems" in page
    french = app.test_client().get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Nous avons arrêté" in french


def test_a_retry_waiting_for_its_backoff_is_taken_off_the_schedule(make_app, run_jobs):
    app = make_app(INSTANCE=instance(hook=hook(retries=2, backoff=60)))  # a closed port
    request_id = new_request(app)
    run_jobs(app)  # the first attempt fails; RQ schedules the retry a minute later
    task = task_of(app, request_id)
    assert (task.status, task.attempts) == (T.QUEUED, 1)
    redis = Redis.from_url(app.config["REDIS_URL"])
    registry = ScheduledJobRegistry(processing.QUEUE, connection=redis)
    assert registry.get_job_ids() == [task.id]

    withdraw_on_the_status_page(app, request_id)
    assert task_of(app, request_id).status == T.CANCELLED
    assert registry.get_job_ids() == []
    with pytest.raises(NoSuchJobError):
        Job.fetch(task.id, connection=redis)
