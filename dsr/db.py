"""Database set-up that the ORM does not do for us.

SQLite: WAL so readers never wait for the writer, a busy timeout so writers
queue instead of failing, foreign keys on, and every transaction started with
BEGIN IMMEDIATE. The last matters because pysqlite begins lazily: two
transactions that read the audit chain's head and then write would otherwise
fail with "database is locked" instead of waiting their turn.

The wait for BEGIN IMMEDIATE is ours, in steps of half a millisecond: SQLite's
own busy handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries, so under
steady contention (two workers and the web app, each holding the lock a few
milliseconds) most of a writer's wait was sleep past the moment the lock came
free (benchmarks/fanout.py).

PostgreSQL needs none of this: writers that must wait for each other take
row locks (`SELECT ... FOR UPDATE`, conditional updates), which wait their
turn (tests/test_concurrency.py runs both).
"""

import sqlite3
import time

from flask import Flask
from sqlalchemy import event, text

from dsr.extensions import db

#: how long a statement, or a transaction's start, may wait for the write lock
BUSY_TIMEOUT_MS = 10000
#: seconds between two tries for the write lock
LOCK_POLL = 0.0005


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA busy_timeout=0")
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(LOCK_POLL)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def init_app(app: Flask) -> None:
    """Attach the SQLite listeners to the app's engine."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)


def ping() -> bool:
    """Whether the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "down" for the health check
        db.session.rollback()
        return False
