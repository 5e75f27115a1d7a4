"""Staff sessions end when they should, locked accounts can be unlocked, API tokens expire
and can be revoked: through the real sign-in form, the CLI runner and HTTP requests."""

from datetime import timedelta

import pytest
from conftest import csrf_token
from fixtures_staff import PASSWORD, bearer, english, login
from sqlalchemy import select

from dsr import staff
from dsr.extensions import db
from dsr.models import ApiToken, AuditEvent
from dsr.models.types import utcnow
from dsr.web.auth import LAST_SEEN

EMAIL = "ana@staff.example"
IDLE = "You were signed out after a while without activity. Sign in again."


@pytest.fixture
def ana(make_staff) -> str:
    return make_staff("handler", EMAIL)


def signed_in_client(app, email: str = EMAIL, password: str = PASSWORD):
    client = english(app.test_client())
    assert login(client, email, password).status_code == 303
    return client


def opens_the_queue(client) -> bool:
    return client.get("/staff/").status_code == 200


def copy_of(app, client):
    """Another client holding the same session cookie, as a thief or a second tab would."""
    other = english(app.test_client())
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def events(app, kind: str) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
        return list(db.session.scalars(query))


def cli(runner, *args: str, input: str | None = None):
    result = runner.invoke(args=["dsr", *args], input=input)
    assert "Traceback" not in result.output
    return result


# --- the end of a session -------------------------------------------------------------------


def test_signing_out_ends_every_copy_of_the_cookie(app, ana):
    client = signed_in_client(app)
    stolen = copy_of(app, client)
    assert opens_the_queue(stolen)
    token = csrf_token(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 303
    assert not opens_the_queue(client)
    assert not opens_the_queue(stolen)
    assert opens_the_queue(signed_in_client(app))  # signing in again works


@pytest.mark.parametrize(
    "command",
    [["user", "deactivate", EMAIL], ["user", "password", EMAIL, "--password", "a" * 12]],
)
def test_deactivation_and_a_new_password_end_the_sessions(app, runner, ana, command):
    client = signed_in_client(app)
    assert cli(runner, *command).exit_code == 0
    assert not opens_the_queue(client)
    assert "sessions are ended" in cli(runner, *command).output


def test_a_new_password_replaces_the_old_one(app, runner, ana):
    result = cli(runner, "user", "password", EMAIL, input=f"{'n' * 14}\n{'n' * 14}\n")
    assert result.exit_code == 0, result.output
    assert login(english(app.test_client()), EMAIL).status_code == 200  # refused
    assert opens_the_queue(signed_in_client(app, password="n" * 14))
    assert [e.data["email"] for e in events(app, "staff.password_changed")] == [EMAIL]
    short = cli(runner, "user", "password", EMAIL, "--password", "short")
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_an_idle_session_is_signed_out_with_a_message(make_app, make_staff):
    app = make_app(STAFF_IDLE_MINUTES=30)
    with app.app_context():
        staff.create_user(EMAIL, "viewer", PASSWORD)
        db.session.commit()
    client = signed_in_client(app)
    with client.session_transaction() as session:
        session[LAST_SEEN] -= 29 * 60  # used 29 minutes ago: still signed in
    assert opens_the_queue(client)
    with client.session_transaction() as session:
        session[LAST_SEEN] -= 31 * 60
    response = client.get("/staff/", follow_redirects=True)
    assert response.request.path == "/staff/login"
    text = response.get_data(as_text=True)
    assert IDLE in text and "Sign in to see this page." not in text
    assert not opens_the_queue(client)
    [event] = events(app, "staff.session_expired")
    assert event.actor == f"staff:{EMAIL}" and event.data["idle_minutes"] == 30


def test_each_request_restarts_the_idle_clock(app, ana):
    client = signed_in_client(app)
    with client.session_transaction() as session:
        session[LAST_SEEN] -= 20 * 60
    assert opens_the_queue(client)
    with client.session_transaction() as session:
        session[LAST_SEEN] -= 20 * 60  # 40 minutes since sign-in, 20 since the last page
    assert opens_the_queue(client)


# --- locked accounts ------------------------------------------------------------------------


def test_unlock_lifts_a_lockout_that_activate_leaves(make_app):
    app = make_app(STAFF_LOCKOUT_ATTEMPTS=2)
    runner = app.test_cli_runner()
    with app.app_context():
        staff.create_user(EMAIL, "viewer", PASSWORD)
        db.session.commit()
    for _ in range(2):
        login(english(app.test_client()), EMAIL, "wrong password!")
    assert login(english(app.test_client()), EMAIL).status_code == 200  # locked

    activated = cli(runner, "user", "activate", EMAIL)
    assert activated.exit_code == 0
    assert f"staff user {EMAIL} was already active" in activated.output
    assert "still locked until" in activated.output and "dsr user unlock" in activated.output
    assert login(english(app.test_client()), EMAIL).status_code == 200  # still locked

    unlocked = cli(runner, "user", "unlock", EMAIL)
    assert unlocked.exit_code == 0 and f"staff user {EMAIL} unlocked" in unlocked.output
    assert opens_the_queue(signed_in_client(app))
    [event] = events(app, "staff.user_unlocked")
    assert event.data["email"] == EMAIL and "was_locked_until" in event.data
    assert len(events(app, "staff.user_activated")) == 1
    assert "was not locked" in cli(runner, "user", "unlock", EMAIL).output


def test_unlock_names_an_unknown_account(runner):
    result = cli(runner, "user", "unlock", "nobody@staff.example")
    assert result.exit_code == 1 and "no staff user nobody@staff.example" in result.output


# --- API tokens -----------------------------------------------------------------------------


def api_status(client, token: str) -> int:
    return client.get("/api/v1/requests", headers=bearer(token)).status_code


def new_token(runner, *options: str) -> str:
    result = runner.invoke(args=["dsr", "token", "create", EMAIL, *options])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_a_revoked_token_gets_401(app, runner, client, ana):
    token, other = new_token(runner), new_token(runner)
    assert api_status(client, token) == 200
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).order_by(ApiToken.id))
    result = cli(runner, "token", "revoke", str(token_id))
    assert result.exit_code == 0 and f"API token {token_id} of {EMAIL} revoked" in result.output
    response = client.get("/api/v1/requests", headers=bearer(token))
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_token"
    assert api_status(client, other) == 200  # only that one
    [event] = events(app, "staff.token_revoked")
    assert event.data == {"email": EMAIL, "token_id": token_id}


def test_an_expired_token_gets_401(app, runner, client, ana):
    token = new_token(runner, "--expires-days", "30")
    assert api_status(client, token) == 200
    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).one()
        assert timedelta(days=29) < stored.expires_at - utcnow() <= timedelta(days=30)
        stored.expires_at = utcnow() - timedelta(seconds=1)  # thirty days later
        db.session.commit()
    assert api_status(client, token) == 401


def test_token_list_shows_every_token_and_its_state(app, runner, client, ana):
    new_token(runner)
    used = new_token(runner, "--expires-days", "7")
    api_status(client, used)
    cli(runner, "token", "revoke", "1")
    lines = cli(runner, "token", "list", EMAIL).output.splitlines()
    assert lines[0].split() == ["id", "created", "last", "used", "expires", "revoked"]
    first, second = lines[1].split(), lines[2].split()
    # id, created (date time), last used, expires, revoked: "-" for none
    assert first[0] == "1" and first[3:] == ["-", "-", *first[-2:]] and first[-1] != "-"
    assert second[0] == "2" and len(second) == 8 and second[-1] == "-"


def test_token_list_of_an_account_without_tokens(runner, ana):
    assert cli(runner, "token", "list", EMAIL).output == "no API tokens\n"


def test_token_commands_refuse_bad_input(runner, ana):
    assert "no API token 99" in cli(runner, "token", "revoke", "99").output
    refused = cli(runner, "token", "create", EMAIL, "--expires-days", "0")
    assert refused.exit_code == 2 and "--expires-days" in refused.output
    assert "no staff user x@y.example" in cli(runner, "token", "list", "x@y.example").output
