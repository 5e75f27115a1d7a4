"""The task transition table: every status has its row, and a move it does not list is refused."""

import pytest
from sqlalchemy import select
from test_processing import MANUAL, events, instance, new_request

from dsr.extensions import db
from dsr.models import FINISHED, Task
from dsr.models.task import TaskStatus as T
from dsr.task_status import (
    TRANSITIONS,
    InvalidTaskTransition,
    can_transition,
    compare_and_set,
    move,
)


def test_every_status_has_its_row_and_finished_ones_stay_finished():
    assert set(TRANSITIONS) == set(T)
    for status in FINISHED:
        assert TRANSITIONS[status] <= {T.PENDING}  # only a failure's retry leaves a finished one
    assert TRANSITIONS[T.FAILED] == {T.PENDING}
    for status in (T.PENDING, T.QUEUED, T.RUNNING, T.WAITING_CALLBACK):
        assert can_transition(status, T.CANCELLED)
    assert not can_transition(T.CANCELLED, T.RUNNING)
    assert not can_transition(T.SUCCEEDED, T.FAILED)


@pytest.fixture
def waiting_task(make_app, run_jobs):
    """A manual task waiting for its outcome, inside an app context."""
    app = make_app(INSTANCE=instance(archive=MANUAL))
    request_id = new_request(app)
    run_jobs(app)
    with app.app_context():
        task = db.session.scalars(select(Task)).one()
        db.session.commit()  # every transaction holds SQLite's write lock: end the read's
        yield app, request_id, task


def test_a_move_the_table_does_not_list_is_refused_and_changes_nothing(waiting_task):
    app, request_id, task = waiting_task
    before = events(app, request_id)
    with pytest.raises(InvalidTaskTransition, match="waiting_callback -> queued is not allowed"):
        move(task, T.QUEUED, actor="system")
    assert task.status == T.WAITING_CALLBACK

    move(task, T.CANCELLED, actor="system", reason="the request is withdrawn")
    db.session.commit()
    assert task.finished_at is not None
    with pytest.raises(InvalidTaskTransition, match="cancelled -> succeeded"):
        move(task, T.SUCCEEDED, actor="connector:archive")
    assert events(app, request_id) == [*before, "task.cancelled"]


def test_compare_and_set_is_only_for_the_silent_moves(waiting_task):
    _app, _request_id, task = waiting_task
    with pytest.raises(InvalidTaskTransition):
        compare_and_set([task.id], [T.SUCCEEDED], T.RUNNING)  # not in the table
    with pytest.raises(InvalidTaskTransition):
        compare_and_set([task.id], [T.RUNNING], T.SUCCEEDED)  # a finish writes an audit event
    # an allowed move from a status the task is not in changes nothing
    assert compare_and_set([task.id], [T.PENDING, T.QUEUED], T.RUNNING) == 0
    db.session.commit()
    assert db.session.get(Task, task.id, populate_existing=True).status == T.WAITING_CALLBACK
