"""Processing: a request becomes tasks, tasks become RQ jobs, answers come back.

    planning         plan a request's tasks, start it, hand the tasks to the queue
    running          the RQ job: claim a task, call its connector, record the attempt
    finishing        a task succeeds or fails (also from a callback); the request's review
    actions          a handler retries a failed task or records a manual one's outcome
    reconciliation   every minute, repair from the database what Redis lost

Which task status may follow which, and the one function that moves a task,
are in `dsr.task_status`. The database is the source of truth; a job only
carries a task id (which is also its RQ job id). When the last task of a
request finishes, the request moves to `review` in the same transaction.

The names other modules use are importable from here; `run_task_job` must
stay so, because every job in Redis names it by this path.
"""

from dsr.processing.actions import awaits_outcome, done_by_hand, record_outcome, retry
from dsr.processing.finishing import (
    NotAllowed,
    check_waiting,
    fail,
    finish_if_done,
    receive_answer,
    succeed,
)
from dsr.processing.planning import (
    QUEUE,
    DecisionNeeded,
    auto_start_types,
    dispatch,
    job_spec,
    plan,
    start,
    starts_itself,
    subject_of,
)
from dsr.processing.reconciliation import reconcile
from dsr.processing.running import AttemptFailed, claim, run_task_job

__all__ = [
    "QUEUE",
    "AttemptFailed",
    "DecisionNeeded",
    "NotAllowed",
    "auto_start_types",
    "awaits_outcome",
    "check_waiting",
    "claim",
    "dispatch",
    "done_by_hand",
    "fail",
    "finish_if_done",
    "job_spec",
    "plan",
    "reconcile",
    "receive_answer",
    "record_outcome",
    "retry",
    "run_task_job",
    "start",
    "starts_itself",
    "subject_of",
    "succeed",
]
