"""Concurrency claims, driven by parallel processes, on SQLite and on PostgreSQL.

Four processes (tests/concurrent_work.py), each with its own app and database
connections, start together at a barrier and hit the same rows: the reference
counter, the same tasks, the same staff account, the audit chain's head, the
same one-time code. What
the parent then reads back must be what a one-at-a-time run would have left.
"""

import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor

import concurrent_work
import pytest
from conftest import base_config
from sqlalchemy import func, select

from dsr import audit
from dsr.extensions import db
from dsr.identity import codes
from dsr.models import AuditEvent, DataRequest, IdentityClaim, StaffUser, Task
from dsr.models.task import TaskStatus as T
from dsr.operations import create_request, transition_to, verify
from dsr.status import RequestStatus as S

PROCESSES = 4
WRONG = "not the password at all"


@pytest.fixture(scope="module")
def pool():
    """Four spawned processes, reused by every test of the module."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    with ProcessPoolExecutor(
        PROCESSES,
        mp_context=context,
        initializer=concurrent_work.start_process,
        initargs=(barrier,),
    ) as executor:
        yield executor


@pytest.fixture
def in_parallel(pool, tmp_path, redis_url, database):
    """`in_parallel(work, shares, **settings)`: `concurrent_work.<work>(*share)` in each
    process at once, on this test's database; what each returned, in order."""

    def run(work: str, shares: list[tuple], **overrides) -> list:
        assert len(shares) == PROCESSES, "one share per process, or the barrier never opens"
        settings = {**base_config(tmp_path, redis_url), "SQLALCHEMY_DATABASE_URI": database}
        settings.update(overrides)
        futures = [pool.submit(concurrent_work.run, settings, work, *share) for share in shares]
        return [future.result(timeout=180) for future in futures]

    return run


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_references_are_unique_and_sequential_under_parallel_intake(app, in_parallel):
    per_process = 10
    shares = [([f"p{p}-{n}@example.org" for n in range(per_process)],) for p in range(PROCESSES)]
    refs = [ref for got in in_parallel("submit_requests", shares) for ref in got]
    year = refs[0].split("-")[1]
    total = PROCESSES * per_process
    assert sorted(refs) == [f"DSR-{year}-{n:06d}" for n in range(1, total + 1)]
    with app.app_context():
        assert count(DataRequest) == total
        assert audit.verify_chain().ok


def tasks_of_a_request(app, number: int, status: T) -> list[str]:
    """`number` tasks in `status` of one request being processed, committed; their ids."""
    with app.app_context():
        request = create_request(
            {
                "type": "access",
                "email": "claims@example.org",
                "name": "Claude Claims",
                "identifiers": {},
                "details": {},
                "language": "fr",
            }
        )
        verify(request, request.verify_nonce)
        transition_to(request, S.PROCESSING, actor="test")
        db.session.flush()
        tasks = [
            Task(request_id=request.id, connector=f"system-{n}", action="access", status=status)
            for n in range(number)
        ]
        db.session.add_all(tasks)
        db.session.commit()
        return [task.id for task in tasks]


def test_each_task_is_claimed_by_one_worker_only(app, in_parallel):
    task_ids = tasks_of_a_request(app, 40, T.QUEUED)
    # every process tries every task, each in its own order, so they collide all along
    shares = [(random.Random(p).sample(task_ids, len(task_ids)),) for p in range(PROCESSES)]
    claimed = [task_id for got in in_parallel("claim_tasks", shares) for task_id in got]
    assert sorted(claimed) == sorted(task_ids)  # every task once, none twice
    with app.app_context():
        tasks = db.session.scalars(select(Task)).all()
        assert {(task.status, task.attempts) for task in tasks} == {(T.RUNNING, 1)}


def test_tasks_finishing_together_move_their_request_to_review_once(app, in_parallel):
    task_ids = tasks_of_a_request(app, 4 * PROCESSES, T.RUNNING)
    # each process finishes its own tasks: whichever finishes last must see the others done
    in_parallel("finish_tasks", [(task_ids[p::PROCESSES],) for p in range(PROCESSES)])
    with app.app_context():
        request = db.session.scalars(select(DataRequest)).one()
        assert request.status == S.REVIEW
        changes = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "status.changed"))
        assert [event.data["to"] for event in changes].count(S.REVIEW) == 1


def login_failures(reason: str) -> int:
    return sum(
        event.data["reason"] == reason
        for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "staff.login_failed")
        )
    )


def test_parallel_wrong_passwords_are_all_counted(make_app, make_staff, in_parallel):
    settings = {"STAFF_LOCKOUT_ATTEMPTS": 20}
    app = make_app(**settings)
    email = make_staff("handler")
    in_parallel("sign_in", [(email, WRONG, 4)] * PROCESSES, **settings)
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        assert user.failed_logins == 4 * PROCESSES
        assert user.locked_until is None
        assert login_failures("wrong_password") == 4 * PROCESSES


def test_parallel_wrong_passwords_lock_exactly_at_the_threshold(make_app, make_staff, in_parallel):
    settings = {"STAFF_LOCKOUT_ATTEMPTS": 5}
    app = make_app(**settings)
    email = make_staff("handler")
    outcomes = in_parallel("sign_in", [(email, WRONG, 3)] * PROCESSES, **settings)
    assert not any(ok for got in outcomes for ok in got)
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        assert user.locked_until is not None and user.failed_logins == 0
        assert count(AuditEvent, AuditEvent.kind == "staff.locked") == 1
        # the first five count and lock; the seven after them find the account locked
        assert login_failures("wrong_password") == 5
        assert login_failures("locked") == 3 * PROCESSES - 5
        assert audit.verify_chain().ok


def test_the_audit_chain_holds_under_parallel_writers(app, in_parallel):
    per_process = 25
    in_parallel("append_events", [(per_process, p) for p in range(PROCESSES)])
    with app.app_context():
        report = audit.verify_chain()
        assert report.ok, report
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "test.parallel").order_by(AuditEvent.id)
        ).all()
        assert len(events) == report.count == PROCESSES * per_process
        for writer in range(PROCESSES):  # each writer's events in the order it wrote them
            mine = [event.data["n"] for event in events if event.data["writer"] == writer]
            assert mine == list(range(per_process))


def test_parallel_wrong_codes_are_all_counted_and_void_the_code_at_the_limit(app, in_parallel):
    phone = "+33612345678"
    with app.app_context():
        request = create_request(
            {
                "type": "access",
                "email": "guess@example.org",
                "name": "Gus Guess",
                "identifiers": {"phone": phone},
                "details": {},
                "language": "fr",
            }
        )
        verify(request, request.verify_nonce)
        _claim, code = codes.issue(request, "phone", phone)
        db.session.commit()
        request_id, wrong = request.id, f"{(int(code) + 1) % 10**6:06d}"
    outcomes = in_parallel("guess_codes", [(request_id, phone, wrong, 3)] * PROCESSES)
    seen = [outcome for got in outcomes for outcome in got]
    # the first five count, the fifth voids the code; the seven after it find none waiting
    assert seen.count("wrong") == codes.CODE_ATTEMPTS
    assert seen.count("refused") == 3 * PROCESSES - codes.CODE_ATTEMPTS
    with app.app_context():
        claim = db.session.scalars(select(IdentityClaim)).one()
        assert claim.code_attempts == codes.CODE_ATTEMPTS and claim.code_hash is None
        assert count(AuditEvent, AuditEvent.kind == "identity.code_failed") == 1
        assert audit.verify_chain().ok
