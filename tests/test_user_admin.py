"""User administration: the admins' pages and the `dsr user` / `dsr token` commands.

Each action through the page and the command line, its audit event, the
password link taken from the outbox and used once, a deactivated account's
session and token refused at once, the last admin kept, and the role checks.
"""

import re
import time

import pytest
from conftest import csrf_token, links_in_outbox, outbox_messages
from fixtures_staff import PASSWORD, bearer, english, login, staff_email
from sqlalchemy import select

from dsr import staff
from dsr.extensions import db
from dsr.models import AuditEvent, StaffUser

USERS = "/staff/users"
NEW_PASSWORD = "a brand new passphrase for ana"
FAILED = "Wrong email address or password, or the account is locked for a while."


def text(response) -> str:
    return response.get_data(as_text=True)


def account(app, email: str) -> StaffUser:
    with app.app_context():
        found = staff.find_user(email)
        found.tokens  # noqa: B018 - loaded now, while there is a session
        return found


def events(app, kind: str) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
        return list(db.session.scalars(query))


def post(client, url: str, data: dict | None = None, page: str = USERS):
    """A form sent as a browser would, with the CSRF token of `page`."""
    return client.post(url, data={"csrf_token": csrf_token(client, page), **(data or {})})


def page_of(app, email: str) -> str:
    return f"{USERS}/{account(app, email).id}"


def act(client, app, email: str, action: str, data: dict | None = None):
    """An action on the account's page; the page it redirects to, followed."""
    url = f"{page_of(app, email)}/{action}"
    response = post(client, url, data, page=page_of(app, email))
    assert response.status_code == 303, text(response)[:500]
    return client.get(response.headers["Location"])


def signed_in(client) -> bool:
    return client.get("/staff/").status_code == 200


def password_links(app) -> list[str]:
    return links_in_outbox(app, "/staff/password/")


def choose_password(client, link: str, password: str = NEW_PASSWORD):
    """The link's form sent (its CSRF token from the sign-in page: a used link has no form)."""
    data = {"csrf_token": csrf_token(client, "/staff/login"), "password": password}
    return client.post(link.removeprefix("http://dsr.test"), data={**data, "confirm": password})


# --- who may see and do what ----------------------------------------------

ADMIN_POSTS = ["role", "deactivate", "activate", "unlock", "password-link", "tokens/1/revoke"]


@pytest.mark.parametrize("role", ["handler", "viewer"])
def test_handlers_and_viewers_get_403(app, staff_client, make_staff, role):
    client = staff_client(role)
    target = page_of(app, make_staff("handler", "ana@staff.example"))
    assert client.get(USERS).status_code == 403
    assert client.get(target).status_code == 403
    token = csrf_token(client, "/staff/")
    assert (
        client.post(USERS, data={"csrf_token": token, "email": "x@staff.example"}).status_code
        == 403
    )
    for action in ADMIN_POSTS:
        response = client.post(f"{target}/{action}", data={"csrf_token": token, "role": "admin"})
        assert response.status_code == 403, action
    assert account(app, "ana@staff.example").role == "handler"
    assert 'href="/staff/users"' not in text(client.get("/staff/"))


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(USERS)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")


def test_admins_see_the_link_and_the_list(app, admin_client, make_staff):
    make_staff("viewer", "vera@staff.example")
    make_staff("handler", "gone@staff.example", active=False)
    assert 'href="/staff/users"' in text(admin_client.get("/staff/"))
    page = text(admin_client.get(USERS))
    row = page[page.find("vera@staff.example") :]
    assert "Viewer" in row[: row.find("</tr>")] and "never" in row[: row.find("</tr>")]
    gone = page[page.find("gone@staff.example") :]
    assert "Deactivated" in gone[: gone.find("</tr>")]
    admin_row = page[page.find(staff_email("admin")) :]
    assert "Administrator" in admin_row[: admin_row.find("</tr>")]
    assert "never" not in admin_row[: admin_row.find("</tr>")]  # it signed in just now


def test_forms_refuse_a_post_without_csrf(app, admin_client, make_staff):
    email = make_staff("handler", "ana@staff.example")
    response = admin_client.post(f"{page_of(app, email)}/deactivate")
    assert response.status_code == 400
    assert account(app, email).active
    response = admin_client.post(USERS, data={"email": "new@staff.example", "role": "viewer"})
    assert response.status_code == 400
    with app.app_context():
        assert staff.find_user("new@staff.example") is None


# --- creating an account and choosing its password ------------------------


def test_admin_creates_an_account_whose_owner_chooses_the_password(app, admin_client, run_jobs):
    response = post(admin_client, USERS, {"email": "Ana@Staff.example", "role": "viewer"})
    assert response.status_code == 303
    created = account(app, "ana@staff.example")
    assert (created.role, created.active) == ("viewer", True)
    [event] = [e for e in events(app, "staff.user_created") if e.data["email"] == created.email]
    assert event.actor == f"staff:{staff_email('admin')}"
    assert event.data["role"] == "viewer"
    [sent] = events(app, "staff.password_link_sent")
    assert sent.actor == event.actor

    run_jobs()
    [message] = outbox_messages(app)
    assert message["To"] == "ana@staff.example"
    assert message["Content-Language"] == "en"  # staff accounts store no language: English
    assert "choose a password" in message["Subject"]
    assert "An administrator created an account for you" in message.get_content()
    [link] = password_links(app)

    owner = english(app.test_client())
    form = owner.get(link.removeprefix("http://dsr.test"))
    assert form.status_code == 200 and "ana@staff.example" in text(form)
    done = choose_password(owner, link)
    assert done.status_code == 303 and done.headers["Location"] == "/staff/login"
    assert login(owner, "ana@staff.example", NEW_PASSWORD).status_code == 303
    assert [e.actor for e in events(app, "staff.password_changed")] == ["staff:ana@staff.example"]

    again = english(app.test_client())
    assert again.get(link.removeprefix("http://dsr.test")).status_code == 409
    refused = choose_password(again, link, "yet another long passphrase")
    assert refused.status_code == 409 and "already used" in text(refused)
    assert login(again, "ana@staff.example", NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "Enter an email address like"),
        ("", "Enter the email address."),
        ("admin@staff.example", "An account with this address exists already."),
    ],
)
def test_a_bad_new_account_is_refused_with_a_message(app, admin_client, email, message):
    response = post(admin_client, USERS, {"email": email, "role": "handler"})
    assert response.status_code == 400
    assert message in text(response)
    assert len(events(app, "staff.user_created")) == 1  # the admin's own


def test_the_new_password_follows_the_rules(app, admin_client, make_staff, run_jobs):
    email = make_staff("handler", "ana@staff.example")
    act(admin_client, app, email, "password-link")
    run_jobs()
    [link] = password_links(app)
    owner = english(app.test_client())
    short = choose_password(owner, link, "too short")
    assert short.status_code == 400 and "between 12 and 1024 characters" in text(short)
    path = link.removeprefix("http://dsr.test")
    data = {"csrf_token": csrf_token(owner, path), "password": NEW_PASSWORD, "confirm": "other"}
    differ = owner.post(path, data=data)
    assert differ.status_code == 400 and "The two passwords differ." in text(differ)
    assert login(owner, email).status_code == 303  # nothing changed: the old one still works


# --- the password link ----------------------------------------------------


def test_reset_link_works_once_and_ends_the_sessions(app, admin_client, staff_client, run_jobs):
    client = staff_client("handler")
    email = staff_email("handler")
    page = act(admin_client, app, email, "password-link")
    assert f"A link to choose a new password was sent to {email}." in text(page)
    assert signed_in(client)  # the link changes nothing until it is used
    run_jobs()
    [message] = outbox_messages(app)
    assert "An administrator asked for a new password" in message.get_content()
    [link] = password_links(app)
    assert choose_password(english(app.test_client()), link).status_code == 303
    assert not signed_in(client)
    assert FAILED in text(login(english(app.test_client()), email))
    assert login(english(app.test_client()), email, NEW_PASSWORD).status_code == 303
    assert choose_password(english(app.test_client()), link).status_code == 409


def test_reset_link_lifts_a_lockout(make_app, run_jobs):
    app = make_app(STAFF_LOCKOUT_ATTEMPTS=1)
    with app.app_context():
        staff.create_user("ana@staff.example", "handler", PASSWORD)
        db.session.commit()
    login(english(app.test_client()), "ana@staff.example", "wrong password here")
    assert account(app, "ana@staff.example").locked_until is not None
    runner = app.test_cli_runner()
    assert runner.invoke(args=["dsr", "user", "reset-password", "ana@staff.example"]).exit_code == 0
    run_jobs(app)
    [link] = password_links(app)
    assert choose_password(english(app.test_client()), link).status_code == 303
    assert account(app, "ana@staff.example").locked_until is None
    assert login(english(app.test_client()), "ana@staff.example", NEW_PASSWORD).status_code == 303


def test_an_expired_or_altered_link_is_refused(make_app, run_jobs):
    app = make_app(PASSWORD_RESET_LINK_MAX_AGE=1)
    with app.app_context():
        staff.create_user("ana@staff.example", "handler", PASSWORD)
        db.session.commit()
    app.test_cli_runner().invoke(args=["dsr", "user", "reset-password", "ana@staff.example"])
    run_jobs(app)
    [link] = password_links(app)
    path = link.removeprefix("http://dsr.test")
    client = english(app.test_client())
    altered = client.get(path[:-3] + ("abc" if not path.endswith("abc") else "xyz"))
    assert altered.status_code == 400 and "This link is not valid" in text(altered)
    time.sleep(2.1)  # older than its max age of one second
    expired = client.get(path)
    assert expired.status_code == 410 and "This link has expired" in text(expired)
    assert login(client, "ana@staff.example").status_code == 303  # the password is unchanged


def test_a_deactivated_accounts_link_is_refused(app, admin_client, make_staff, run_jobs):
    email = make_staff("handler", "ana@staff.example")
    act(admin_client, app, email, "password-link")
    act(admin_client, app, email, "deactivate")
    run_jobs()
    assert outbox_messages(app) == []  # the job finds the account deactivated: nothing sent
    page = text(act(admin_client, app, email, "password-link"))
    assert "This account is deactivated" in page
    with app.app_context():
        from dsr import password_reset

        link = password_reset.link(staff.find_user(email))
    response = english(app.test_client()).get(link.removeprefix("http://dsr.test"))
    assert response.status_code == 400


# --- role, activity, lockout ----------------------------------------------


def test_admin_changes_a_role(app, admin_client, make_staff):
    email = make_staff("viewer", "vera@staff.example")
    page = act(admin_client, app, email, "role", {"role": "handler"})
    assert "The role is now: Handler." in text(page)
    assert account(app, email).role == "handler"
    [event] = events(app, "staff.role_changed")
    assert event.data == {"email": email, "role": "handler", "was": "viewer"}
    assert event.actor == f"staff:{staff_email('admin')}"
    response = post(admin_client, f"{page_of(app, email)}/role", {"role": "owner"})
    assert response.status_code == 303
    assert account(app, email).role == "handler"


def test_the_last_admin_stays(app, admin_client, make_staff):
    email = staff_email("admin")
    for action, data in (("role", {"role": "viewer"}), ("deactivate", None)):
        page = text(act(admin_client, app, email, action, data))
        assert f"{email} is the last active administrator" in page
    assert account(app, email).role == "admin" and account(app, email).active
    assert events(app, "staff.role_changed") == events(app, "staff.user_deactivated") == []

    other = make_staff("admin", "second@staff.example")
    make_staff("admin", "inactive@staff.example", active=False)
    act(admin_client, app, email, "role", {"role": "handler"})  # another admin remains
    assert account(app, email).role == "handler"
    assert admin_client.get(USERS).status_code == 403
    assert account(app, other).role == "admin"


def test_deactivation_stops_session_and_token_at_once(app, admin_client, staff_client):
    client = staff_client("handler")
    email = staff_email("handler")
    with app.app_context():
        token = staff.create_token(staff.find_user(email))
        db.session.commit()
    api = app.test_client()
    assert api.get("/api/v1/requests", headers=bearer(token)).status_code == 200
    assert signed_in(client)

    page = act(admin_client, app, email, "deactivate")
    assert "Account deactivated" in text(page)
    assert not account(app, email).active
    assert not signed_in(client)
    assert api.get("/api/v1/requests", headers=bearer(token)).status_code == 401
    assert FAILED in text(login(english(app.test_client()), email))
    [event] = events(app, "staff.user_deactivated")
    assert event.actor == f"staff:{staff_email('admin')}"

    act(admin_client, app, email, "activate")
    assert account(app, email).active
    assert login(english(app.test_client()), email).status_code == 303
    assert api.get("/api/v1/requests", headers=bearer(token)).status_code == 200
    assert [e.data["email"] for e in events(app, "staff.user_activated")] == [email]


def test_admin_unlocks_an_account(make_app):
    app = make_app(STAFF_LOCKOUT_ATTEMPTS=2)
    with app.app_context():
        staff.create_user("admin@staff.example", "admin", PASSWORD)
        staff.create_user("ana@staff.example", "handler", PASSWORD)
        db.session.commit()
    admin = english(app.test_client())
    assert login(admin, "admin@staff.example").status_code == 303
    for _ in range(2):
        login(english(app.test_client()), "ana@staff.example", "wrong password here")
    listing = text(admin.get(USERS))
    row = listing[listing.find("ana@staff.example") :]
    assert "Locked until" in row[: row.find("</tr>")]
    assert FAILED in text(login(english(app.test_client()), "ana@staff.example"))

    page = text(act(admin, app, "ana@staff.example", "unlock"))
    assert "Account unlocked." in page and "Locked until" not in page
    assert login(english(app.test_client()), "ana@staff.example").status_code == 303
    [event] = events(app, "staff.user_unlocked")
    assert event.actor == "staff:admin@staff.example" and "was_locked_until" in event.data


# --- API tokens -----------------------------------------------------------


def test_admin_lists_and_revokes_tokens(app, admin_client, make_staff):
    email = make_staff("handler", "ana@staff.example")
    with app.app_context():
        ana = staff.find_user(email)
        kept, revoked = staff.create_token(ana), staff.create_token(ana, expires_days=5)
        db.session.commit()
    ids = [token.id for token in account(app, email).tokens]
    page = text(admin_client.get(page_of(app, email)))
    assert page.count("Revoke token") == 2
    page = text(act(admin_client, app, email, f"tokens/{ids[1]}/revoke"))
    assert f"API token {ids[1]} revoked." in page and "Revoked on" in page
    api = app.test_client()
    assert api.get("/api/v1/requests", headers=bearer(revoked)).status_code == 401
    assert api.get("/api/v1/requests", headers=bearer(kept)).status_code == 200
    [event] = events(app, "staff.token_revoked")
    assert event.data == {"email": email, "token_id": ids[1]}
    assert event.actor == f"staff:{staff_email('admin')}"

    other = page_of(app, staff_email("admin"))  # a token revoked through another account: 404
    response = post(admin_client, f"{other}/tokens/{ids[0]}/revoke")
    assert response.status_code == 404
    assert api.get("/api/v1/requests", headers=bearer(kept)).status_code == 200


# --- the command line -----------------------------------------------------


def cli(runner, *args):
    return runner.invoke(args=["dsr", *args])


def test_cli_lists_accounts(app, runner, make_staff):
    make_staff("admin", "adam@staff.example")
    make_staff("viewer", "vera@staff.example", active=False)
    result = cli(runner, "user", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["email", "role", "active", "locked", "until", "last", "sign-in"]
    assert re.match(r"adam@staff\.example\s+admin\s+yes\s+-\s+-$", lines[1])
    assert re.match(r"vera@staff\.example\s+viewer\s+no\s+-\s+-$", lines[2])


def test_cli_changes_roles_and_keeps_the_last_admin(app, runner, make_staff):
    make_staff("admin", "adam@staff.example")
    make_staff("viewer", "vera@staff.example")
    result = cli(runner, "user", "role", "vera@staff.example", "handler")
    assert result.exit_code == 0 and "vera@staff.example is now handler" in result.output
    assert account(app, "vera@staff.example").role == "handler"
    assert events(app, "staff.role_changed")[0].actor == "system"

    for args in (("role", "adam@staff.example", "viewer"), ("deactivate", "adam@staff.example")):
        refused = cli(runner, "user", *args)
        assert refused.exit_code == 1
        assert "adam@staff.example is the last active admin" in refused.output
    assert account(app, "adam@staff.example").active
    assert account(app, "adam@staff.example").role == "admin"
    assert cli(runner, "user", "role", "vera@staff.example", "owner").exit_code == 2


def test_cli_deactivates_activates_and_unlocks(make_app):
    app = make_app(STAFF_LOCKOUT_ATTEMPTS=1)
    runner = app.test_cli_runner()
    with app.app_context():
        staff.create_user("ana@staff.example", "handler", PASSWORD)
        token = staff.create_token(staff.find_user("ana@staff.example"))
        db.session.commit()
    client = english(app.test_client())
    assert login(client, "ana@staff.example").status_code == 303
    assert cli(runner, "user", "deactivate", "ana@staff.example").exit_code == 0
    assert not signed_in(client)
    assert app.test_client().get("/api/v1/requests", headers=bearer(token)).status_code == 401
    assert cli(runner, "user", "activate", "ana@staff.example").exit_code == 0

    login(english(app.test_client()), "ana@staff.example", "wrong password here")
    result = cli(runner, "user", "unlock", "ana@staff.example")
    assert result.exit_code == 0 and "unlocked" in result.output
    assert login(english(app.test_client()), "ana@staff.example").status_code == 303
    kinds = ["staff.user_deactivated", "staff.user_activated", "staff.user_unlocked"]
    assert all(len(events(app, kind)) == 1 for kind in kinds)


def test_cli_sends_a_password_link(app, runner, make_staff, run_jobs):
    email = make_staff("handler", "ana@staff.example")
    result = cli(runner, "user", "reset-password", email)
    assert result.exit_code == 0
    assert "works once, for 24 hours" in result.output
    assert events(app, "staff.password_link_sent")[0].actor == "system"
    run_jobs()
    [link] = password_links(app)
    assert choose_password(english(app.test_client()), link).status_code == 303
    assert login(english(app.test_client()), email, NEW_PASSWORD).status_code == 303
    assert [e.data["template"] for e in events(app, "mail.sent")] == ["password_reset"]

    make_staff("viewer", "gone@staff.example", active=False)
    refused = cli(runner, "user", "reset-password", "gone@staff.example")
    assert refused.exit_code == 1 and "inactive" in refused.output
    assert cli(runner, "user", "reset-password", "nobody@staff.example").exit_code == 1


def test_cli_lists_and_revokes_tokens(app, runner, make_staff):
    email = make_staff("handler", "ana@staff.example")
    created = cli(runner, "token", "create", email)
    assert created.exit_code == 0
    token = created.stdout.strip()
    listing = cli(runner, "token", "list", email)
    [header, row] = listing.output.splitlines()
    token_id = row.split()[0]
    assert header.split()[:2] == ["id", "created"] and row.endswith("-")
    result = cli(runner, "token", "revoke", token_id)
    assert result.exit_code == 0 and f"API token {token_id} of {email} revoked" in result.output
    assert app.test_client().get("/api/v1/requests", headers=bearer(token)).status_code == 401
    assert not cli(runner, "token", "list", email).output.splitlines()[1].endswith("-")
    assert cli(runner, "token", "revoke", "9999").exit_code == 1
