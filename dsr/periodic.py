"""Jobs that run on a clock, declared as data for `flask dsr cron`."""

import logging

from dsr import asking, operations, processing, restriction, retention
from dsr.extensions import db

logger = logging.getLogger(__name__)


def expire_unverified_job() -> int:
    """Requests never verified within the window become `expired`."""
    count = operations.expire_unverified()
    db.session.commit()
    if count:
        logger.info("expired %s unverified requests", count)
    return count


def reconcile_job() -> dict[str, int]:
    """Tasks whose job vanished run again; callbacks that never came fail their task."""
    done = processing.reconcile()
    if any(done.values()):
        logger.info("reconciliation: %s", done)
    return done


def retention_job() -> dict[str, int]:
    """Results past their retention period go; requests past theirs are anonymised."""
    return retention.purge().counts()


def lift_restrictions_job() -> int:
    """Announced liftings whose notice period is over: `lift_restriction` on the systems."""
    tasks = restriction.lift_due()
    processing.dispatch(tasks)
    return len(tasks)


def follow_up_questions_job() -> dict[str, int]:
    """Questions to the person left unanswered: a reminder, then the request closes."""
    done = asking.follow_up()
    if any(done.values()):
        logger.info("questions followed up: %s", done)
    return done


#: (function, interval in seconds)
PERIODIC_JOBS = [
    (expire_unverified_job, 3600),
    (reconcile_job, 60),
    (retention_job, 24 * 3600),
    (lift_restrictions_job, 3600),
    (follow_up_questions_job, 3600),
]
