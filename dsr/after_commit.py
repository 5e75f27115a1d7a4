"""Work that waits for the current transaction to commit: a mail or a job about rows the
transaction writes must not leave if it rolls back, nor arrive before the rows exist.

`later(func, *args)` keeps the call in the session; it runs once the transaction
commits, and is dropped if it rolls back. A call that fails (Redis down) is
logged: what it was for is in the database, where the reconciliation finds it.
"""

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from dsr.extensions import db

logger = logging.getLogger(__name__)

KEY = "dsr.after_commit"


def later(func: Callable, *args, **kwargs) -> None:
    db.session.info.setdefault(KEY, []).append((func, args, kwargs))


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    for func, args, kwargs in session.info.pop(KEY, []):
        try:
            func(*args, **kwargs)
        except Exception:  # the commit is done: one failed call must not stop the others
            logger.exception("after commit, %s failed", getattr(func, "__name__", func))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(KEY, None)
