"""Jobs that run on a clock, declared as data for `flask dsr cron`."""

import logging

from dsr import operations
from dsr.extensions import db

logger = logging.getLogger(__name__)


def expire_unverified_job() -> int:
    """Requests never verified within the window become `expired`."""
    count = operations.expire_unverified()
    db.session.commit()
    if count:
        logger.info("expired %s unverified requests", count)
    return count


#: (function, interval in seconds)
PERIODIC_JOBS = [
    (expire_unverified_job, 3600),
]
