"""Staff accounts: sign-in, lockout, inactive accounts, redirects, cookies, and the CLI."""

import hashlib
from datetime import timedelta

import pytest
from conftest import csrf_token
from fixtures_staff import LOGIN, PASSWORD, english, login, staff_email
from sqlalchemy import select

from dsr import staff
from dsr.extensions import db
from dsr.models import ApiToken, AuditEvent, StaffUser
from dsr.models.types import utcnow
from dsr.web.auth import safe_next

FAILED = "Wrong email address or password, or the account is locked for a while."


@pytest.fixture
def client(app):
    return english(app.test_client())


def user(app, email: str) -> StaffUser:
    with app.app_context():
        return staff.find_user(email)


def staff_events(app, kind: str) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
        return list(db.session.scalars(query))


def signed_in(client) -> bool:
    """Whether the client's session opens the queue (anonymous is sent to the login form)."""
    return client.get("/staff/").status_code == 200


# --- signing in -----------------------------------------------------------


def test_login_page_has_a_form_with_csrf(client):
    page = client.get(LOGIN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'name="csrf_token"' in text
    assert 'autocomplete="current-password"' in text
    assert page.headers["Cache-Control"] == "no-store"


def test_login_success(app, client, make_staff):
    email = make_staff("handler")
    response = login(client, email.upper())  # addresses compare without case
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"
    assert signed_in(client)
    assert user(app, email).last_login_at is not None
    [event] = staff_events(app, "staff.login")
    assert (event.actor, event.request_id, event.data) == (f"staff:{email}", None, {"email": email})


def test_failures_read_alike_whatever_went_wrong(app, client, make_staff):
    email = make_staff("viewer")
    make_staff("handler", "gone@staff.example", active=False)
    unknown = login(client, "nobody@staff.example")
    wrong = login(client, email, "not the password at all")
    inactive = login(client, "gone@staff.example")
    pages = [r.get_data(as_text=True) for r in (unknown, wrong, inactive)]
    assert {r.status_code for r in (unknown, wrong, inactive)} == {200}
    assert all(FAILED in page for page in pages)
    assert not signed_in(client)
    reasons = [(e.actor, e.data["reason"]) for e in staff_events(app, "staff.login_failed")]
    assert reasons == [
        ("anonymous", "unknown_user"),
        (f"staff:{email}", "wrong_password"),
        ("staff:gone@staff.example", "inactive"),
    ]


def test_lockout_after_too_many_wrong_passwords(make_app, make_staff):
    app = make_app(STAFF_LOCKOUT_ATTEMPTS=3, STAFF_LOCKOUT_MINUTES=10)
    client = english(app.test_client())
    with app.app_context():
        email = staff.create_user("ana@staff.example", "handler", PASSWORD).email
        db.session.commit()
    for _ in range(3):
        assert FAILED in login(client, email, "wrong password here").get_data(as_text=True)
    locked = user(app, email)
    assert timedelta(minutes=9) < locked.locked_until - utcnow() <= timedelta(minutes=10)
    assert locked.failed_logins == 0
    [event] = staff_events(app, "staff.locked")
    assert event.data["email"] == email

    refused = login(client, email)  # the right password, but locked: the same message
    assert FAILED in refused.get_data(as_text=True)
    assert not signed_in(client)
    assert staff_events(app, "staff.login_failed")[-1].data["reason"] == "locked"


def test_lock_ends_after_its_time(app, client, make_staff):
    email = make_staff("handler")
    with app.app_context():
        account = staff.find_user(email)
        account.locked_until = utcnow() - timedelta(seconds=1)
        account.failed_logins = 3
        db.session.commit()
    assert login(client, email).status_code == 303
    assert signed_in(client)
    after = user(app, email)
    assert (after.locked_until, after.failed_logins) == (None, 0)


def test_success_resets_the_count(make_app):
    app = make_app(STAFF_LOCKOUT_ATTEMPTS=3)
    client = english(app.test_client())
    with app.app_context():
        email = staff.create_user("ana@staff.example", "handler", PASSWORD).email
        db.session.commit()
    login(client, email, "wrong password one")
    login(client, email, "wrong password two")
    assert login(client, email).status_code == 303
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    login(client, email, "wrong password three")
    login(client, email, "wrong password four")
    assert user(app, email).locked_until is None
    assert login(client, email).status_code == 303


def test_zero_minutes_lock_is_over_at_once(make_app):
    app = make_app(STAFF_LOCKOUT_ATTEMPTS=1, STAFF_LOCKOUT_MINUTES=0)
    client = english(app.test_client())
    with app.app_context():
        email = staff.create_user("ana@staff.example", "viewer", PASSWORD).email
        db.session.commit()
    login(client, email, "wrong password here")
    assert len(staff_events(app, "staff.locked")) == 1
    assert login(client, email).status_code == 303


def test_deactivated_account_is_signed_out(app, staff_client):
    client = staff_client("handler")
    assert signed_in(client)
    with app.app_context():
        staff.set_active(staff.find_user(staff_email("handler")), False)
        db.session.commit()
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(LOGIN)


def test_login_refuses_a_post_without_csrf(client, make_staff):
    email = make_staff("admin")
    response = client.post(LOGIN, data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_login_with_empty_fields_says_what_is_missing(client):
    response = client.post(LOGIN, data={"csrf_token": csrf_token(client, LOGIN)})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter your email address." in text and "Enter your password." in text


def test_login_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_LOGIN_IP="2 per minute")
    client = english(app.test_client())
    for _ in range(2):
        assert login(client, "nobody@staff.example").status_code == 200
    refused = login(client, "nobody@staff.example")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


# --- where sign-in leads --------------------------------------------------


def test_anonymous_is_sent_to_login_and_back(client, make_staff):
    email = make_staff("viewer")
    response = client.get("/staff/?status=all")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login?next=/staff/?status%3Dall"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sign in to see this page." in page
    assert 'value="/staff/?status=all"' in page
    signed = login(client, email, next="/staff/?status=all")
    assert signed.headers["Location"] == "/staff/?status=all"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/staff/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\t/evil.example",
        "staff/",
        "",
    ],
)
def test_next_never_leaves_the_site(client, make_staff, target):
    assert safe_next(target) is None
    response = login(client, make_staff("viewer"), next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"


def test_next_keeps_a_local_path(app):
    assert safe_next("/staff/requests/DSR-2026-000001") == "/staff/requests/DSR-2026-000001"


def test_logout_is_a_post(app, staff_client):
    client = staff_client("viewer")
    assert client.get("/staff/logout").status_code == 405
    token = csrf_token(client, "/staff/")
    response = client.post("/staff/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == LOGIN
    assert not signed_in(client)
    [event] = staff_events(app, "staff.logout")
    assert event.actor == f"staff:{staff_email('viewer')}"


def test_session_cookie_is_httponly_and_lax(client, make_staff):
    response = login(client, make_staff("viewer"))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development serves plain HTTP


def test_session_cookie_is_secure_in_production(make_app):
    app = make_app(
        DSR_ENV="production",
        SECRET_KEY="p" * 32,
        DSR_DATA_KEY="5a" * 32,
        MAIL_BACKEND="outbox",
        SMS_BACKEND="outbox",
    )
    with app.app_context():
        staff.create_user("ana@staff.example", "viewer", PASSWORD)
        db.session.commit()
    response = login(english(app.test_client()), "ana@staff.example")
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


# --- accounts from the command line ---------------------------------------


def test_cli_creates_a_user(app, runner):
    result = runner.invoke(
        args=[
            "dsr",
            "user",
            "create",
            "Ana@Staff.Example",
            "--role",
            "handler",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "staff user ana@staff.example created (handler)" in result.output
    account = user(app, "ana@staff.example")
    assert account.role == "handler" and account.active
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash


def test_cli_asks_for_the_password_twice(app, runner):
    result = runner.invoke(
        args=["dsr", "user", "create", "ana@staff.example", "--role", "viewer"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert login(english(app.test_client()), "ana@staff.example").status_code == 303


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss", "--password", PASSWORD], "'boss' is not one of 'viewer', 'handler'"),
        (["--role", "viewer", "--password", "short"], "at least 12 characters"),
    ],
)
def test_cli_refuses_bad_input(app, runner, args, message):
    result = runner.invoke(args=["dsr", "user", "create", "ana@staff.example", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert user(app, "ana@staff.example") is None


def test_cli_refuses_a_second_user_with_the_same_email(runner, make_staff):
    make_staff("viewer", "ana@staff.example")
    result = runner.invoke(
        args=[
            "dsr",
            "user",
            "create",
            "ANA@staff.example",
            "--role",
            "admin",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 1
    assert "Error: a staff user ana@staff.example already exists" in result.output


def test_cli_token_is_printed_once_and_stored_hashed(app, runner, make_staff):
    make_staff("viewer", "ana@staff.example")
    result = runner.invoke(args=["dsr", "token", "create", "ana@staff.example"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("dsr_") and len(token) > 40
    with app.app_context():
        [stored] = db.session.scalars(select(ApiToken)).all()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert staff.user_for_token(token).email == "ana@staff.example"


def test_cli_token_for_unknown_email(runner):
    result = runner.invoke(args=["dsr", "token", "create", "nobody@staff.example"])
    assert result.exit_code == 1
    assert "Error: no staff user nobody@staff.example" in result.output


def test_cli_deactivates_and_activates(app, runner, make_staff):
    email = make_staff("handler")
    assert runner.invoke(args=["dsr", "user", "deactivate", email]).exit_code == 0
    assert not user(app, email).active
    assert FAILED in login(english(app.test_client()), email).get_data(as_text=True)
    assert runner.invoke(args=["dsr", "user", "activate", email]).exit_code == 0
    assert login(english(app.test_client()), email).status_code == 303
