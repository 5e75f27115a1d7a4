"""Fixtures: a fresh migrated database per test, on SQLite and on PostgreSQL.

Every test that uses the database (through `make_app`, `app`, `client`...) runs
twice, `[sqlite]` and `[postgresql]`, unless its module or the test is marked
`sqlite_only` (slow end-to-end flows, and tests that barely touch the database).
Choose one with `--db=sqlite` or `--db=postgresql` (the default runs both), or
with `-m sqlite` / `-m postgresql`.

- `database` (per test): the SQLAlchemy URL of a fresh database. SQLite: a copy
  of a file migrated once (`migrated_db`). PostgreSQL: `CREATE DATABASE ...
  TEMPLATE` a database migrated once (`postgresql_template`), dropped after the test;
- `postgresql` (session): a throwaway cluster (tests/postgresql_cluster.py) in a
  temporary folder. When it cannot be started (no server installed, and not
  root to install it) the PostgreSQL variants are skipped, saying why; under
  `CI=true` they fail instead.
"""

import os
import shutil
import uuid

import postgresql_cluster
import pytest
from flask_migrate import upgrade

from dsr import create_app
from dsr.extensions import db

DATABASES = ("sqlite", "postgresql")
TEMPLATE = "dsr_template"


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=(*DATABASES, "both"),
        default="both",
        help="run the database tests on this database only (default: both)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite: the SQLite variant of a database test")
    config.addinivalue_line("markers", "postgresql: the PostgreSQL variant of a database test")
    config.addinivalue_line("markers", "sqlite_only: a test that uses the database on SQLite only")


def pytest_generate_tests(metafunc):
    """Run each test that uses `database` once per database."""
    if "database" not in metafunc.fixturenames:
        return
    names = ("sqlite",) if metafunc.definition.get_closest_marker("sqlite_only") else DATABASES
    params = [pytest.param(name, marks=getattr(pytest.mark, name)) for name in names]
    metafunc.parametrize("database", params, indirect=True)


def pytest_collection_modifyitems(config, items):
    """`--db=X`: deselect every variant on the other database (a test without one is SQLite)."""
    chosen = config.getoption("db")
    if chosen == "both":
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("database", "sqlite") if callspec else "sqlite"
        (keep if name == chosen else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def migrate(url: str, folder, redis_url: str) -> None:
    """Bring the database at `url` up to date with the real migrations."""
    from conftest import base_config

    app = create_app({**base_config(folder, redis_url), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    app.extensions["dsr.redis"].close()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory, redis_url):
    """A SQLite file brought up to date by the real migrations, copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    migrate(f"sqlite:///{folder / 'dsr.sqlite3'}", folder, redis_url)
    return folder / "dsr.sqlite3"


@pytest.fixture(scope="session")
def postgresql():
    """A throwaway PostgreSQL cluster for the session, stopped and removed at the end."""
    try:
        cluster = postgresql_cluster.start()
    except postgresql_cluster.Unavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the PostgreSQL tests, but PostgreSQL cannot start: {exc}")
        pytest.skip(f"PostgreSQL cannot start, its variants are skipped: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgresql_template(postgresql, tmp_path_factory, redis_url) -> str:
    """A PostgreSQL database migrated once: every test's database is a copy of it."""
    migrate(postgresql.create_database(TEMPLATE), tmp_path_factory.mktemp("pg"), redis_url)
    return TEMPLATE


@pytest.fixture
def database(request, tmp_path):
    """The SQLAlchemy URL of a fresh, migrated database for this test."""
    if request.param == "sqlite":
        path = tmp_path / "dsr.sqlite3"
        shutil.copy(request.getfixturevalue("migrated_db"), path)
        yield f"sqlite:///{path}"
        return
    cluster = request.getfixturevalue("postgresql")
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield cluster.create_database(name, template=request.getfixturevalue("postgresql_template"))
    cluster.drop_database(name)
