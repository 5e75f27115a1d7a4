"""The access flow end to end, against the demo systems running as real processes.

The engine itself runs as a real HTTP server on loopback (the SMS platform
calls it back over a socket), with a real Redis, SQLite and RQ workers: the
test's burst worker, and for the crash test a `flask dsr worker` process that
is killed mid-task.
"""

import os
import signal
import time
from datetime import timedelta

import pytest
from access_steps import select_ref, submit_and_confirm, tasks_of, wait_for_status
from redis import Redis
from worker_process import start_worker, worker_log

from connectors.demo.people import NOBODY, SHOWCASE
from dsr import operations, processing, results
from dsr.extensions import db
from dsr.models import Task
from dsr.models.task import TaskStatus as T
from dsr.models.types import utcnow
from dsr.operations import create_request, verify
from dsr.status import RequestStatus as S

#: end to end with the demo systems and worker processes: slow, and the database tests cover both
pytestmark = pytest.mark.sqlite_only

CAMILLE = SHOWCASE["everywhere"]
HUGO = SHOWCASE["crm_only"]


def test_a_person_known_to_all_three_systems(engine, run_jobs):
    ref = submit_and_confirm(engine, run_jobs, CAMILLE, proven=True, phone="06 39 98 00 01")
    assert wait_for_status(engine, ref, S.PROCESSING)
    run_jobs(engine)  # CRM and billing answer now; the SMS platform accepts and calls back
    wait_for_status(engine, ref, S.REVIEW)
    tasks = tasks_of(engine, ref)
    assert {name: t.status for name, t in tasks.items()} == dict.fromkeys(
        ("crm", "billing", "sms"), T.SUCCEEDED
    )
    assert tasks["crm"].record_counts["contacts"] == 1
    assert tasks["crm"].record_counts["tickets"] == 3
    assert tasks["billing"].record_counts["customers"] == 1
    assert tasks["billing"].record_counts["trips"] == 14
    assert tasks["billing"].record_counts["payments"] >= 1  # found through the invoices
    assert tasks["sms"].record_counts["messages"] == 6
    assert tasks["crm"].outcome.startswith("found 1 contact")
    with engine.app_context():
        billing = db.session.get(Task, tasks["billing"].id)
        customer = results.preview(billing)["customers"][0]
        assert customer["email"].lower() == CAMILLE.email and customer["phone"] == "06 39 98 00 01"
        crm = db.session.get(Task, tasks["crm"].id)
        assert len(list(results.records(crm, "login_events"))) == crm.record_counts["login_events"]


def test_a_person_known_to_one_system(engine, run_jobs):
    ref = submit_and_confirm(engine, run_jobs, HUGO)  # no phone given: the SMS platform is skipped
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    tasks = tasks_of(engine, ref)
    assert tasks["crm"].status == T.SUCCEEDED and tasks["crm"].record_counts["contacts"] == 1
    assert (tasks["billing"].status, tasks["billing"].record_counts) == (T.SUCCEEDED, {})
    assert tasks["billing"].outcome == "no data"
    assert tasks["sms"].status == T.SKIPPED and "phone" in tasks["sms"].outcome


def test_a_person_known_to_none(engine, run_jobs):
    ref = submit_and_confirm(engine, run_jobs, email=NOBODY, proven=True, phone="+33 6 39 98 99 99")
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    tasks = tasks_of(engine, ref)
    assert {t.status for t in tasks.values()} == {T.SUCCEEDED}
    assert all(t.record_counts == {} for t in tasks.values())
    assert {t.outcome for t in tasks.values()} == {"no data"}


@pytest.mark.parametrize("mode", ["error", "malformed"])
def test_a_faulty_answer_is_retried(engine, run_jobs, crm, mode):
    crm.faults(mode, times=1, seconds=0)
    ref = submit_and_confirm(engine, run_jobs, HUGO)
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    task = tasks_of(engine, ref)["crm"]
    assert (task.status, task.attempts) == (T.SUCCEEDED, 2)
    with engine.app_context():
        failed = [e for e in events(task.request_id) if e["kind"] == "task.attempt_failed"]
    # the system's error text stays out of the audit chain (it may quote the person)
    assert [e["data"] for e in failed] == [{"task": task.id, "attempt": 1}]


def test_a_system_that_never_answers_fails_after_its_retries(engine, run_jobs, crm):
    with engine.app_context():
        crm_connector = engine.extensions["dsr.connectors"]["crm"]
        crm_connector.timeout, crm_connector.retries = 0.5, 1
    crm.faults("slow", times=5, seconds=3)
    ref = submit_and_confirm(engine, run_jobs, HUGO)
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    task = tasks_of(engine, ref)["crm"]
    assert (task.status, task.attempts) == (T.FAILED, 2)
    assert task.last_error == "crm did not answer within 0.5 s"
    assert tasks_of(engine, ref)["billing"].status == T.SUCCEEDED  # nothing else affected


def events(request_id: int) -> list[dict]:
    from dsr import audit

    return [{"kind": e.kind, "data": e.data} for e in audit.events_for(request_id)]


def start_hugos_access(engine) -> str:
    """A verified access request for Hugo (the CRM only), started; its reference."""
    with engine.app_context():
        request = create_request(
            {
                "type": "access",
                "email": HUGO.email,
                "name": "Hugo Lefèvre",
                "identifiers": {},
                "details": {},
                "language": "fr",
            }
        )
        verify(request, request.verify_nonce)
        db.session.commit()
        processing.start(request, actor="system")
        return request.ref


def wait_until_the_crm_runs(engine, ref: str, worker, tmp_path) -> None:
    """Until the worker process is inside the CRM's call (20 s at most)."""
    deadline = time.monotonic() + 20
    while tasks_of(engine, ref)["crm"].status != T.RUNNING:
        assert time.monotonic() < deadline and worker.poll() is None, worker_log(tmp_path)
        time.sleep(0.05)


def test_a_worker_killed_mid_task_loses_nothing(engine, run_jobs, crm, tmp_path):
    """`flask dsr worker` dies (SIGKILL) while the CRM is slow; the reconciliation re-runs."""
    crm.faults("slow", times=1, seconds=20)
    ref = start_hugos_access(engine)
    worker = start_worker(engine, tmp_path)
    try:
        wait_until_the_crm_runs(engine, ref, worker, tmp_path)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    crm.faults("none")
    with engine.app_context():
        assert processing.reconcile()["requeued"] == 0  # within its time limit: still alive
        later = utcnow() + timedelta(minutes=5)
        assert processing.reconcile(now=later)["requeued"] == 1
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    task = tasks_of(engine, ref)["crm"]
    assert (task.status, task.attempts) == (T.SUCCEEDED, 2)


def test_a_withdrawal_during_a_systems_call_keeps_nothing_it_returned(engine, crm, tmp_path):
    """`flask dsr worker` is inside the CRM's (slow) call when the subject withdraws."""
    crm.faults("slow", times=1, seconds=2)
    ref = start_hugos_access(engine)
    worker = start_worker(engine, tmp_path)
    try:
        wait_until_the_crm_runs(engine, ref, worker, tmp_path)
        with engine.app_context():
            operations.withdraw(db.session.scalars(select_ref(ref)).one())
            db.session.commit()
        deadline = time.monotonic() + 20
        while tasks_of(engine, ref)["crm"].connector_ms is None:  # the call came back
            assert time.monotonic() < deadline and worker.poll() is None, worker_log(tmp_path)
            time.sleep(0.05)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    tasks = tasks_of(engine, ref)
    assert {name: t.status for name, t in tasks.items()} == {
        "crm": T.CANCELLED,
        "billing": T.CANCELLED,
        "sms": T.SKIPPED,
    }
    assert (tasks["crm"].record_counts, tasks["crm"].outcome) == ({}, None)
    with engine.app_context():
        assert not results.task_folder(db.session.get(Task, tasks["crm"].id)).exists()


def test_a_redis_flush_loses_nothing(engine, run_jobs):
    ref = submit_and_confirm(engine, run_jobs, CAMILLE, proven=True, phone="+33639980001")
    Redis.from_url(engine.config["REDIS_URL"]).flushdb()  # Redis restarted without its data
    run_jobs(engine)
    assert {t.status for t in tasks_of(engine, ref).values()} == {T.QUEUED}
    with engine.app_context():
        assert processing.reconcile()["requeued"] == 3
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    assert {t.status for t in tasks_of(engine, ref).values()} == {T.SUCCEEDED}
