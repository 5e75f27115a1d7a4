"""Database set-up that the ORM does not do for us.

SQLite: WAL so readers never wait for the writer, a busy timeout so writers
queue instead of failing, foreign keys on, and every transaction started with
BEGIN IMMEDIATE. The last matters because pysqlite begins lazily: two
transactions that read the audit chain's head and then write would otherwise
fail with "database is locked" instead of waiting their turn.
"""

from flask import Flask
from sqlalchemy import event, text

from dsr.extensions import db


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


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
