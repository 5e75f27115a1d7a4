"""The database layer on both databases: SQLite's settings kept to SQLite, column
types that round-trip, and the migrations from an empty database to the models."""

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import StatementError

from dsr import audit
from dsr.db import _sqlite_begin, _sqlite_connect
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.operations import create_request

#: JSON that a careless encoding would change
AWKWARD = {
    "text": 'Élodie L\'Hôte "la grande" ✓ 😀',
    "nested": {"list": [1, 2.5, None, True, False, ""], "empty": {}},
    "large": 2**53,
    "line": "one\ntwo",
}


def test_sqlite_settings_are_for_sqlite_only(app, database):
    with app.app_context():
        engine = db.engine
        on_sqlite = database.startswith("sqlite")
        assert (engine.dialect.name == "sqlite") is on_sqlite
        # BEGIN IMMEDIATE, WAL and the busy wait are SQLite's; PostgreSQL locks rows itself
        assert event.contains(engine, "begin", _sqlite_begin) is on_sqlite
        assert event.contains(engine, "connect", _sqlite_connect) is on_sqlite
        if on_sqlite:
            assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        else:
            isolation = db.session.execute(text("SHOW transaction_isolation")).scalar()
            assert isolation == "read committed"


def test_utc_datetimes_and_json_round_trip(app):
    summer = datetime(2026, 7, 14, 9, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Paris"))
    with app.app_context():
        request = create_request(
            {
                "type": "access",
                "email": "round.trip@example.org",
                "name": "Round Trip",
                "identifiers": {"phone": ["+33639980001"]},
                "details": AWKWARD,
                "language": "fr",
            }
        )
        request.verified_at = summer
        db.session.commit()
        request_id = request.id
    with app.app_context():  # a new session: read back from the database, not the identity map
        stored = db.session.get(DataRequest, request_id)
        assert stored.verified_at == summer
        assert stored.verified_at.tzinfo is UTC
        assert stored.verified_at.hour == 7 and stored.verified_at.microsecond == 123456
        assert stored.details == AWKWARD
        assert stored.identifiers == {"phone": ["+33639980001"]}
        column = db.session.execute(select(DataRequest.verified_at)).scalar_one()
        assert column == summer


def test_a_naive_datetime_is_refused(app):
    with app.app_context():
        request = create_request(
            {
                "type": "access",
                "email": "naive@example.org",
                "name": "Naive",
                "identifiers": {},
                "details": {},
                "language": "en",
            }
        )
        request.verified_at = datetime(2026, 7, 14, 9, 30)
        with pytest.raises(StatementError, match="naive datetime"):
            db.session.flush()


@pytest.fixture
def empty_database(request, database, tmp_path):
    """The URL of an empty database, on the same kind as `database`."""
    if database.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    cluster = request.getfixturevalue("postgresql")
    name = f"empty_{uuid.uuid4().hex[:12]}"
    yield cluster.create_database(name)
    cluster.drop_database(name)


def test_migrations_build_the_models_schema_from_empty(make_app, empty_database):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        downgrade(revision="base")
        assert inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert audit.verify_chain().ok
