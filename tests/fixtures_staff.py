"""Fixtures: staff users, their logins and API tokens.

- `make_staff(role, email=None, password=PASSWORD, active=True)` creates a
  committed account through `dsr.staff.create_user` and returns its email;
- `login(client, email, password=PASSWORD, next=None)` signs a client in
  through the real form (CSRF token included) and returns the response;
- `staff_client(role)` is a new English test client signed in with a new
  account of that role (`staff_email(role)`); `admin_client`, `handler_client`, `viewer_client` are
  ready ones;
- `staff_tokens` is an API token per role (accounts `token_email(role)`),
  `bearer(token)` its header.

Each fixture works on the test's `app`, so a test module that overrides `app`
(with `staff_instance()`, whose connectors need no process) gets its staff
there. `new_case(app, ...)` makes a request in a given status and deadline.
"""

import copy
from datetime import timedelta

import pytest
from conftest import csrf_token, free_port
from sqlalchemy import select

from dsr import caseload, deadlines, operations, staff
from dsr.config import DEMO_CONFIG, load_instance
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.status import RequestStatus

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "handler", "viewer")
LOGIN = "/staff/login"


def staff_email(role: str) -> str:
    """The account `staff_client(role)` signs in with."""
    return f"{role}@staff.example"


def token_email(role: str) -> str:
    """The account `staff_tokens[role]` belongs to."""
    return f"api-{role}@staff.example"


def english(client):
    """Pages in English, so that assertions read the source text."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def login(client, email: str, password: str = PASSWORD, next: str | None = None):
    """Sign in through the form, as a browser would; the response is not followed."""
    url = LOGIN if next is None else f"{LOGIN}?next={next}"
    token = csrf_token(client, url)
    form = {"csrf_token": token, "email": email, "password": password}
    if next is not None:
        form["next"] = next
    return client.post(LOGIN, data=form)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_staff(app):
    def make(role: str, email: str | None = None, password: str = PASSWORD, active=True) -> str:
        with app.app_context():
            user = staff.create_user(email or staff_email(role), role, password)
            if not active:
                staff.set_active(user, False)
            db.session.commit()
            return user.email

    return make


@pytest.fixture
def staff_client(app, make_staff):
    def signed_in(role: str):
        client = english(app.test_client())
        response = login(client, make_staff(role))
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return client

    return signed_in


@pytest.fixture
def admin_client(staff_client):
    return staff_client("admin")


@pytest.fixture
def handler_client(staff_client):
    return staff_client("handler")


@pytest.fixture
def viewer_client(staff_client):
    return staff_client("viewer")


@pytest.fixture
def staff_tokens(app, make_staff) -> dict[str, str]:
    """An API token for an account of each role."""
    tokens = {}
    for role in ROLES:
        email = make_staff(role, token_email(role))
        with app.app_context():
            tokens[role] = staff.create_token(staff.find_user(email))
            db.session.commit()
    return tokens


#: connectors that need no process: a person's archive, and a system that never answers
STAFF_CONNECTORS = {
    "archive": {"kind": "manual", "label": "Paper archive"},
    "broken": {
        "kind": "http",
        "label": "Old CRM",
        "url": "",  # a closed port, set per app
        "retries": 0,
        "timeout": 2,
    },
}


def staff_instance() -> dict:
    """The demo instance with `STAFF_CONNECTORS` only."""
    instance = load_instance(str(DEMO_CONFIG))
    instance["connectors"] = copy.deepcopy(STAFF_CONNECTORS)
    instance["connectors"]["broken"]["url"] = f"http://127.0.0.1:{free_port()}/dsr"
    return instance


#: the statuses a request passes through after `open` to reach a status
ROUTES = {
    "unverified": (),
    "review": ("processing", "review"),
    "completed": ("processing", "review", "completed"),
}


def new_case(
    app,
    status: str = "open",
    *,
    type_: str = "access",
    email: str = "alice@example.org",
    due_in_days: int | None = None,
    details: dict | None = None,
) -> str:
    """A request moved to `status` (through the real operations); its reference.

    `due_in_days` sets the deadline that many local days from today (negative:
    overdue), as if the request had been received long ago.
    """
    with app.app_context():
        req = operations.create_request(
            {
                "type": type_,
                "email": email,
                "name": "Alice Martin",
                "identifiers": {"phone": "+33612345678"},
                "details": details or {},
                "language": "en",
            }
        )
        if status not in ("unverified", "expired"):
            operations.verify(req, req.verify_nonce)
        for target in ROUTES.get(status, (status,) if status != "open" else ()):
            operations.transition_to(req, RequestStatus(target), actor="system")
        if due_in_days is not None:
            _country, tz = operations.controller_settings()
            day = caseload.local_today() + timedelta(days=due_in_days)
            req.due_at = deadlines.end_of_day_utc(day, tz)
        db.session.commit()
        return req.ref


def get_request(app, ref: str) -> DataRequest:
    """The request, with its tasks loaded, readable outside the app context."""
    with app.app_context():
        req = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        req.tasks  # noqa: B018 - loaded now, while there is a session
        return req
