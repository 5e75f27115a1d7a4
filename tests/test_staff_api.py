"""The staff API: bearer tokens, roles, the queue, a case, starting and retrying."""

import re
from datetime import timedelta

import openapi_spec_validator
import pytest
from fixtures_staff import bearer, get_request, new_case, staff_instance, token_email
from sqlalchemy import select

from dsr import processing, staff
from dsr.extensions import db
from dsr.models import ApiToken, DataRequest
from dsr.models.task import TaskStatus as T
from dsr.models.types import utcnow
from dsr.status import RequestStatus as S

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
LIST = "/api/v1/requests"


@pytest.fixture
def app(make_app):
    return make_app(INSTANCE=staff_instance())


@pytest.fixture
def api(app, staff_tokens):
    """Call the API as a role: `api("viewer").get(path)`."""

    class Caller:
        def __init__(self, role: str):
            self.headers = {**bearer(staff_tokens[role]), "Accept-Language": "en"}

        def get(self, path: str, **kwargs):
            return checked(app.test_client().get(path, headers=self.headers, **kwargs))

        def post(self, path: str, **kwargs):
            return checked(app.test_client().post(path, headers=self.headers, **kwargs))

    return Caller


def checked(response):
    """Every answer is JSON without a stack trace."""
    assert response.is_json, response.data[:300]
    assert b"Traceback" not in response.data
    return response


def error_code(response, status: int) -> str:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]["code"]


def started(app, run_jobs) -> str:
    """A request started, its jobs run: the `archive` task waits, the `broken` one failed."""
    ref = new_case(app)
    with app.app_context():
        req = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        processing.start(req, actor="staff:test")
    run_jobs()
    return ref


def failed_task(app, ref: str) -> str:
    return next(t.id for t in get_request(app, ref).tasks if t.connector == "broken")


# --- authentication and roles ---------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/requests"),
    ("get", "/api/v1/requests/{ref}"),
    ("post", "/api/v1/requests/{ref}/start"),
    ("post", "/api/v1/tasks/{task}/retry"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "unauthorized"),
        ("Bearer", "unauthorized"),
        ("Basic YWRtaW46YWRtaW4=", "unauthorized"),
        ("Bearer dsr_not-a-token", "invalid_token"),
    ],
)
def test_no_valid_token_is_401(app, method, path, authorization, code):
    url = path.format(ref=new_case(app), task="00000000-0000-0000-0000-000000000000")
    headers = {"Authorization": authorization} if authorization else {}
    response = checked(getattr(app.test_client(), method)(url, headers=headers))
    assert error_code(response, 401) == code
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="dsr"')


def test_the_session_cookie_is_no_credential(app, viewer_client):
    response = checked(viewer_client.get(LIST))
    assert error_code(response, 401) == "unauthorized"


def test_inactive_account_token_is_refused(app, api, staff_tokens):
    with app.app_context():
        staff.set_active(staff.find_user(token_email("handler")), False)
        db.session.commit()
    assert error_code(api("handler").get(LIST), 401) == "invalid_token"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS[2:])
def test_viewer_may_not_act(app, run_jobs, api, method, path):
    ref = started(app, run_jobs)
    url = path.format(ref=ref, task=failed_task(app, ref))
    assert error_code(getattr(api("viewer"), method)(url), 403) == "forbidden"
    assert get_request(app, ref).status == S.PROCESSING


@pytest.mark.parametrize("role", ["viewer", "handler", "admin"])
def test_every_role_reads(app, api, role):
    ref = new_case(app)
    assert api(role).get(LIST).status_code == 200
    assert api(role).get(f"{LIST}/{ref}").status_code == 200


def test_token_use_is_noted_once_a_minute(app, api):
    def last_used():
        with app.app_context():
            user = staff.find_user(token_email("viewer"))
            query = select(ApiToken.last_used_at).where(ApiToken.user_id == user.id)
            return db.session.scalar(query)

    assert last_used() is None
    api("viewer").get(LIST)
    first = last_used()
    assert first is not None and utcnow() - first < timedelta(seconds=5)
    api("viewer").get(LIST)
    assert last_used() == first
    with app.app_context():
        db.session.execute(
            ApiToken.__table__.update().values(last_used_at=first - timedelta(minutes=2))
        )
        db.session.commit()
    api("viewer").get(LIST)
    assert last_used() > first


# --- the queue ------------------------------------------------------------


def test_list_shape_and_order(app, api):
    later = new_case(app, due_in_days=9)
    late = new_case(app, "processing", due_in_days=-2)
    new_case(app, "withdrawn")
    body = api("viewer").get(LIST).get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 25, 2)
    first, second = body["items"]
    assert set(first) == {
        "ref",
        "type",
        "status",
        "received_at",
        "due_at",
        "days_left",
        "overdue",
        "assignee",
    }
    assert (first["ref"], first["status"], first["days_left"], first["overdue"]) == (
        late,
        "processing",
        -2,
        True,
    )
    assert (second["ref"], second["days_left"], second["overdue"]) == (later, 9, False)
    assert ISO_Z.match(first["received_at"]) and ISO_Z.match(first["due_at"])


def test_list_filters(app, api):
    late = new_case(app, due_in_days=-1)
    erasure = new_case(app, type_="erasure", details={"ground": "consent_withdrawn"})
    paused = new_case(app, "awaiting_subject", due_in_days=-5)
    closed = new_case(app, "rejected")

    def refs(query: str) -> list[str]:
        return [item["ref"] for item in api("viewer").get(LIST + query).get_json()["items"]]

    assert refs("?overdue=true") == [late]
    assert sorted(refs("?overdue=false")) == sorted([erasure, paused])
    assert refs("?type=erasure") == [erasure]
    assert refs("?status=rejected") == [closed]
    assert len(refs("?status=all")) == 4
    paused_item = api("viewer").get(LIST + "?status=awaiting_subject").get_json()["items"][0]
    assert (paused_item["days_left"], paused_item["overdue"]) == (None, False)


def test_list_pages(app, api):
    refs = [new_case(app, due_in_days=day) for day in range(5)]
    body = api("viewer").get(LIST + "?per_page=2&page=3").get_json()
    assert (body["page"], body["per_page"], body["total"]) == (3, 2, 5)
    assert [item["ref"] for item in body["items"]] == refs[4:]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=lost", "status"),
        ("?type=complaint", "type"),
        ("?overdue=yes", "overdue"),
        ("?page=0", "page"),
        ("?per_page=101", "per_page"),
        ("?per_page=-1", "per_page"),
    ],
)
def test_list_bad_filters_are_422(app, api, query, field):
    response = api("viewer").get(LIST + query)
    assert error_code(response, 422) == "validation_error"
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_public_intake_still_answers_on_the_same_path(app, api):
    payload = {"type": "access", "email": "bob@example.org", "name": "Bob", "details": {}}
    created = checked(app.test_client().post(LIST, json=payload))
    assert created.status_code == 201
    assert api("viewer").get(LIST).get_json()["items"][0]["ref"] == created.get_json()["ref"]


# --- a case ---------------------------------------------------------------


def test_read_a_case(app, run_jobs, api):
    ref = started(app, run_jobs)
    body = api("viewer").get(f"{LIST}/{ref}").get_json()
    assert set(body) == {
        "ref", "type", "status", "email", "name", "language", "identifiers", "details",
        "decisions", "restricted_at", "restriction_lift_notified_at", "restriction_lifted_at",
        "received_at", "verified_at", "due_at", "assignee", "identity", "tasks", "events",
        "notes", "duplicates", "merged_into",
    }  # fmt: skip
    assert (body["ref"], body["status"], body["email"]) == (ref, "processing", "alice@example.org")
    assert body["identifiers"] == {"phone": "+33612345678"}
    assert ISO_Z.match(body["verified_at"])
    tasks = {task["connector"]: task for task in body["tasks"]}
    assert set(tasks["broken"]) == {
        "id", "connector", "action", "status", "attempts", "last_error", "outcome",
        "record_counts", "created_at", "started_at", "finished_at", "withheld",
    }  # fmt: skip
    assert (tasks["broken"]["status"], tasks["broken"]["attempts"]) == ("failed", 1)
    assert "refused the connection" in tasks["broken"]["last_error"]
    assert ISO_Z.match(tasks["broken"]["finished_at"])
    assert (tasks["archive"]["status"], tasks["archive"]["finished_at"]) == (
        "waiting_callback",
        None,
    )
    kinds = [event["kind"] for event in body["events"]]
    assert kinds[:4] == [
        "request.created",
        "status.changed",
        "status.changed",
        "processing.planned",
    ]
    assert set(body["events"][0]) == {"id", "kind", "actor", "created_at", "data"}
    assert body["events"][2]["actor"] == "staff:test"


def test_unknown_reference_is_404(app, api):
    assert error_code(api("viewer").get(f"{LIST}/DSR-2000-000001"), 404) == "not_found"
    start = api("handler").post(f"{LIST}/DSR-2000-000001/start")
    assert error_code(start, 404) == "not_found"
    retry = api("handler").post("/api/v1/tasks/00000000-0000-0000-0000-000000000000/retry")
    assert error_code(retry, 404) == "not_found"


# --- acting ---------------------------------------------------------------


def test_handler_starts_processing(app, api):
    ref = new_case(app)
    response = api("handler").post(f"{LIST}/{ref}/start")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "processing"
    assert sorted(task["connector"] for task in body["tasks"]) == ["archive", "broken"]
    assert {task["status"] for task in body["tasks"]} == {"queued"}
    assert body["events"][-1]["actor"] == f"staff:{token_email('handler')}"
    again = api("handler").post(f"{LIST}/{ref}/start")
    assert error_code(again, 409) == "not_open"


def test_handler_retries_a_failed_task(app, run_jobs, api):
    ref = started(app, run_jobs)
    task_id = failed_task(app, ref)
    response = api("admin").post(f"/api/v1/tasks/{task_id}/retry")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["status"], body["attempts"]) == (task_id, "queued", 0)
    again = api("handler").post(f"/api/v1/tasks/{task_id}/retry")
    assert error_code(again, 409) == "not_allowed"
    run_jobs()
    assert next(t for t in get_request(app, ref).tasks if t.id == task_id).status == T.FAILED


# --- the OpenAPI document -------------------------------------------------


def test_openapi_describes_the_staff_api_and_callbacks(app):
    doc = checked(app.test_client().get("/api/v1/openapi.json")).get_json()
    openapi_spec_validator.validate(doc)
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "From `flask dsr token create`.",
    }
    paths = doc["paths"]
    assert set(paths["/requests"]) == {"get", "post"}
    assert "security" not in paths["/requests"]["post"]
    for path, method in [
        ("/requests", "get"),
        ("/requests/{ref}", "get"),
        ("/requests/{ref}/start", "post"),
        ("/tasks/{task_id}/retry", "post"),
    ]:
        operation = paths[path][method]
        assert operation["security"] == [{"bearerAuth": []}]
        assert {"401", "403"} <= set(operation["responses"])
    callback = paths["/callbacks/{task_id}"]["post"]
    assert "X-DSR-Signature" in [p["name"] for p in callback["parameters"]]
    assert set(callback["responses"]) == {"200", "401", "404", "409", "413", "422", "429"}
    answer = doc["components"]["schemas"]["Answer"]["properties"]
    assert set(answer) == {"status", "records", "error", "outcome", "task_id"}
