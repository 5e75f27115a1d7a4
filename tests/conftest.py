"""Fixtures: a real Redis server, a migrated database per test, the app and its clients."""

import os
import re
import shutil
import socket
import subprocess
import time

import pytest
from redis import Redis

from dsr import create_app
from dsr import queue as dsr_queue
from dsr.extensions import db

#: the secrets of the demo systems: the demo instance TOML names them, so every app needs them
#: (tests/fixtures_demo.py starts the demo systems with the same ones)
DEMO_SECRETS = {
    "DSR_CRM_SECRET": "test-crm-secret-4f1d9a",
    "DSR_SMS_SECRET": "test-sms-secret-82c07e",
}
os.environ.update(DEMO_SECRETS)
#: where the demo instance TOML sends its tasks (url_env); tests that run the demo systems
#: give their own addresses (tests/fixtures_demo.py)
DEMO_URLS = {
    "DSR_CRM_URL": "http://127.0.0.1:8701/dsr",
    "DSR_SMS_URL": "http://127.0.0.1:8702/dsr",
    "DSR_BILLING_URL": "sqlite:///:memory:",
}
for variable, url in DEMO_URLS.items():
    os.environ.setdefault(variable, url)

#: fixtures kept in their own modules (tests/ is on sys.path through this conftest)
pytest_plugins = ["fixtures_database", "fixtures_demo", "fixtures_staff", "fixtures_browser"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A redis-server of our own on a free loopback port, for the whole session."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    proc.terminate()
    proc.wait(timeout=10)


def base_config(tmp_path, redis_url) -> dict:
    return {
        "TESTING": True,
        # production is the default; the tests ask for development (short key, /dev pages)
        "DSR_ENV": "development",
        "SECRET_KEY": "test-secret",
        # make_app replaces it with the test's `database`; never the instance folder's
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dsr.sqlite3'}",
        "REDIS_URL": redis_url,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "RESULTS_DIR": str(tmp_path / "results"),
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        "BASE_URL": "http://dsr.test",
        "RATELIMIT_SUBMIT_IP": "1000 per hour",
        "RATELIMIT_SUBMIT_EMAIL": "1000 per hour",
        "RATELIMIT_RESEND_IP": "1000 per hour",
        "RATELIMIT_RESEND_EMAIL": "1000 per hour",
    }


@pytest.fixture
def make_app(tmp_path, redis_url, database):
    """Build an app on this test's fresh database (`database`), with extra settings."""
    Redis.from_url(redis_url).flushdb()
    apps = []

    def make(**overrides):
        config = {**base_config(tmp_path, redis_url), "SQLALCHEMY_DATABASE_URI": database}
        app = create_app({**config, **overrides})
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()
        app.extensions["dsr.redis"].close()
    Redis.from_url(redis_url).flushdb()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def run_jobs(app):
    """Run every queued job with a real RQ worker in burst mode."""

    def run(target=None):
        """`target`: an app made with `make_app`, when the test does not use `app`."""
        target = target or app
        with target.app_context():
            dsr_queue.run_worker(target, burst=True)

    return run


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form at `url`, as a browser would have it."""
    page = client.get(url)
    match = CSRF_INPUT.search(page.get_data(as_text=True))
    assert match, f"no csrf_token on {url}"
    return match.group(1)


def outbox_messages(app) -> list:
    """Every email in the development outbox, oldest first, parsed."""
    import email
    from email import policy
    from pathlib import Path

    folder = Path(app.config["OUTBOX_DIR"])
    paths = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


LINK = re.compile(r"https?://\S+")


def links_in_outbox(app, marker: str) -> list[str]:
    """The links containing `marker` (such as "/verify/") in the outbox, oldest first."""
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in outbox_messages(app)]
    return [link for body in bodies for link in LINK.findall(body) if marker in link]
