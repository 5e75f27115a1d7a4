"""Secure by default: production unless asked otherwise, its key, headers, the proxy hops."""

import re

import pytest
from fixtures_staff import english, login, new_case
from sqlalchemy import select

from dsr import create_app, signing
from dsr.config import DEV_SECRET_KEY, ConfigError, from_environment
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.signing import Purpose

PRODUCTION_KEY = "k" * 32
#: production also needs the master key of the data at rest
DATA_KEY = "5a" * 32
#: and names how it sends emails and text messages
BACKENDS = {"MAIL_BACKEND": "outbox", "SMS_BACKEND": "outbox"}


@pytest.fixture
def no_env(monkeypatch):
    """The environment of a server where nobody set DSR_ENV nor SECRET_KEY."""
    monkeypatch.delenv("DSR_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)


def test_without_dsr_env_the_app_refuses_to_start_without_a_secret_key(no_env, tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"})


@pytest.mark.parametrize(
    ("key", "message"),
    [("x", "at least 32 bytes"), ("é" * 15, "at least 32 bytes"), (DEV_SECRET_KEY, "development")],
)
def test_without_dsr_env_a_short_or_development_key_is_refused(no_env, key, message):
    with pytest.raises(ConfigError, match=f"SECRET_KEY.*{message}"):
        create_app({"SECRET_KEY": key})


def test_a_key_of_32_bytes_starts_production(no_env):
    app = create_app({"SECRET_KEY": PRODUCTION_KEY, "DSR_DATA_KEY": DATA_KEY, **BACKENDS})
    assert app.config["DSR_ENV"] == "production" and app.config["SESSION_COOKIE_SECURE"]


def test_a_setting_that_is_not_a_number_is_named():
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be a whole number, not 'two'"):
        from_environment({"TRUSTED_PROXIES": "two"})


def test_wsgi_prints_the_message_without_a_traceback(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {"PATH": "/usr/bin:/bin", "DSR_CRM_SECRET": "a", "DSR_SMS_SECRET": "b"}
    env["DSR_BILLING_URL"] = "sqlite:///:memory:"
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("dsr cannot start: SECRET_KEY is not set")
    assert "Traceback" not in done.stderr


# --- what the development key can no longer open ------------------------------------------


def dev_signed_session(make_app, make_staff_in) -> str:
    """A staff session cookie signed with the development key, as anyone could make one."""
    dev = make_app(SECRET_KEY=DEV_SECRET_KEY)
    email = make_staff_in(dev)
    client = english(dev.test_client())
    assert login(client, email).status_code == 303
    assert client.get("/staff/").status_code == 200  # the forgery opens a development app
    return client.get_cookie("session").value


def test_a_session_signed_with_the_development_key_opens_nothing_in_production(make_app):
    from dsr import staff

    def make_staff_in(app):
        with app.app_context():
            user = staff.create_user("ana@staff.example", "admin", "correct horse battery staple")
            db.session.commit()
            return user.email

    cookie = dev_signed_session(make_app, make_staff_in)
    production = make_app(
        DSR_ENV="production", SECRET_KEY=PRODUCTION_KEY, DSR_DATA_KEY=DATA_KEY, **BACKENDS
    )
    client = production.test_client()
    client.set_cookie("session", cookie)
    response = client.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")


def test_a_status_link_signed_with_the_development_key_is_refused_in_production(make_app):
    dev = make_app(SECRET_KEY=DEV_SECRET_KEY)
    ref = new_case(dev)
    with dev.app_context():
        req = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        forged = "/status/" + signing.sign(Purpose.STATUS, req.id)
    assert dev.test_client().get(forged).status_code == 200
    production = make_app(
        DSR_ENV="production", SECRET_KEY=PRODUCTION_KEY, DSR_DATA_KEY=DATA_KEY, **BACKENDS
    )
    response = production.test_client().get(forged)
    assert response.status_code == 400
    assert ref not in response.get_data(as_text=True)


def test_dev_pages_exist_only_in_development(make_app):
    assert make_app().test_client().get("/dev/outbox").status_code == 200
    production = make_app(
        DSR_ENV="production", SECRET_KEY=PRODUCTION_KEY, DSR_DATA_KEY=DATA_KEY, **BACKENDS
    )
    assert production.test_client().get("/dev/outbox").status_code == 404
    assert not any(rule.rule.startswith("/dev") for rule in production.url_map.iter_rules())


# --- response headers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/requests/new?type=access", "/staff/login", "/api/v1/health", "/nowhere"]
)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # development: plain HTTP


def test_production_asks_browsers_for_https(make_app):
    production = make_app(
        DSR_ENV="production", SECRET_KEY=PRODUCTION_KEY, DSR_DATA_KEY=DATA_KEY, **BACKENDS
    )
    response = production.test_client().get("/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_templates_carry_nothing_the_policy_would_block():
    """No inline script, no style attribute, no script or style from elsewhere: a script is
    an empty element loading a file of dsr/static."""
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    own_script = re.compile(
        r"""<script src="\{\{ url_for\('static', filename='[\w.-]+\.js'\) \}\}" defer></script>"""
    )
    for path in templates.rglob("*.html"):
        text = path.read_text()
        assert "style=" not in text, path
        assert text.count("<script") == len(own_script.findall(text)), path
        assert not re.search(r"\son[a-z]+=", text), path  # no onclick= and the like


# --- the client's address behind a proxy ---------------------------------------------------


def login_from(client, address: str | None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/staff/login", data={}, headers=headers)


def test_x_forwarded_for_is_ignored_without_trusted_proxies(make_app):
    app = make_app(RATELIMIT_LOGIN_IP="2 per minute", WTF_CSRF_ENABLED=False)
    client = app.test_client()
    answers = [login_from(client, f"203.0.113.{n}").status_code for n in range(3)]
    assert answers == [400, 400, 429]  # one peer, whatever it claims


def test_one_trusted_proxy_gives_the_client_address(make_app):
    app = make_app(RATELIMIT_LOGIN_IP="2 per minute", WTF_CSRF_ENABLED=False, TRUSTED_PROXIES=1)
    client = app.test_client()
    assert [login_from(client, f"203.0.113.{n}").status_code for n in range(3)] == [400] * 3
    same = [login_from(client, "198.51.100.7").status_code for _ in range(3)]
    assert same == [400, 400, 429]
    # the proxy appends the peer it saw: what the client wrote before it counts for nothing
    spoofed = [login_from(client, f"10.0.0.{n}, 198.51.100.7").status_code for n in range(2)]
    assert spoofed == [429, 429]
