"""The JSON API: intake, its errors in one shape, health, and the OpenAPI document."""

import email
import email.policy
import json
import re
import time
from datetime import datetime
from pathlib import Path

import jsonschema
import openapi_spec_validator
import pytest
from sqlalchemy import func, select

from dsr import audit
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.queue import get_queue

URL = "/api/v1/requests"
REF = re.compile(r"^DSR-(\d{4})-(\d{6})$")

#: a valid `details` for each of the eight types
VALID_DETAILS = {
    "access": {"note": "Mostly my order history."},
    "rectification": {"changes": [{"field": "address", "corrected_value": "1 rue de la Paix"}]},
    "erasure": {"ground": "consent_withdrawn"},
    "portability": {"recipient_name": "Other Co", "recipient_email": "dpo@other.example"},
    "restriction": {"ground": "accuracy_contested"},
    "objection": {"basis": "direct_marketing"},
    "consent_withdrawal": {"purposes": ["newsletter"]},
    "post_mortem": {"mode": "directives", "directive": "erase"},
}


def payload(**changes) -> dict:
    body = {
        "type": "access",
        "email": "Alice@Example.com",
        "name": "Alice Martin",
        "identifiers": {"phone": "+33 6 12 34 56 78"},
        "details": {},
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def checked(response):
    """Every answer of the API is JSON without a stack trace."""
    assert b"Traceback" not in response.data
    assert response.is_json, response.data[:200]
    return response


def post(client, body, **kwargs):
    return checked(client.post(URL, json=body, **kwargs))


def post_raw(client, data: bytes, content_type="application/json"):
    return checked(client.post(URL, data=data, content_type=content_type))


def assert_error(response, status: int, code: str) -> dict:
    """The error shape every API error shares; returns `error`."""
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]
    return error


def stored(app) -> list[DataRequest]:
    with app.app_context():
        return list(db.session.scalars(select(DataRequest).order_by(DataRequest.id)))


def queued_mail(app) -> int:
    with app.app_context():
        return get_queue("mail").count


# --- creation -------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", sorted(VALID_DETAILS))
def test_each_type_is_created(app, client, type_name):
    response = post(client, payload(type=type_name, details=VALID_DETAILS[type_name]))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "unverified"
    [request] = stored(app)
    assert request.type == type_name
    assert request.details == VALID_DETAILS[type_name]


def test_created_answer_has_the_contract_fields(client):
    body = post(client, payload()).get_json()
    assert {"ref", "status", "due_at"} <= set(body)
    assert REF.match(body["ref"])
    assert REF.match(body["ref"]).group(1) == str(datetime.now().year)
    assert body["status"] == "unverified"
    assert body["due_at"].endswith("Z")
    due = datetime.fromisoformat(body["due_at"])
    received = datetime.fromisoformat(body["received_at"])
    assert 27 <= (due - received).days <= 35


def test_references_are_sequential(client):
    first = post(client, payload()).get_json()["ref"]
    second = post(client, payload(email="bob@example.com")).get_json()["ref"]
    assert int(REF.match(second).group(2)) == int(REF.match(first).group(2)) + 1


def test_stored_unverified_with_an_audit_event(app, client):
    ref = post(client, payload()).get_json()["ref"]
    [request] = stored(app)
    assert (request.ref, request.status, request.verified_at) == (ref, "unverified", None)
    assert request.email == "alice@example.com"
    assert request.identifiers == {"phone": "+33 6 12 34 56 78"}
    with app.app_context():
        [event] = audit.events_for(request.id)
        assert event.kind == "request.created"
        assert event.data["channel"] == "api"


def test_a_verification_email_is_sent(app, client, run_jobs):
    post(client, payload())
    assert queued_mail(app) == 1
    run_jobs()
    [path] = Path(app.config["OUTBOX_DIR"]).glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert "alice@example.com" in message["To"].lower()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert re.search(r"http://dsr\.test/verify/[\w.-]+", text)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr"),
        ("de-DE,de;q=0.9", "fr"),
        (None, "fr"),
    ],
)
def test_language_from_accept_language_when_absent(app, client, header, expected):
    headers = {"Accept-Language": header} if header else {}
    assert post(client, payload(), headers=headers).status_code == 201
    assert stored(app)[0].language == expected


def test_language_in_the_body_wins(app, client):
    response = post(client, payload(language="en"), headers={"Accept-Language": "fr"})
    assert response.status_code == 201
    assert stored(app)[0].language == "en"


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (payload(type="complaint"), "type"),
        (payload(email=None), "email"),
        (payload(email="not-an-address"), "email"),
        (payload(name="x" * 201), "name"),
        (payload(name="   "), "name"),
        (payload(favourite_colour="blue"), "favourite_colour"),
        (payload(identifiers={"phone": "call me"}), "identifiers.phone"),
        (payload(language="de"), "language"),
        (payload(details="please"), "details"),
        (payload(details={"wish": "x"}), "details.wish"),
        (payload(type="restriction", details={}), "details.ground"),
        (payload(type="rectification", details={"changes": "all of it"}), "details.changes"),
        (
            payload(type="rectification", details={"changes": [{"field": "address"}]}),
            "details.changes.0.corrected_value",
        ),
    ],
)
def test_invalid_payload_is_422_with_field_paths(app, client, body, path):
    error = assert_error(post(client, body), 422, "validation_error")
    assert path in error["fields"], error["fields"]
    assert all(isinstance(m, str) and m for m in error["fields"][path])
    assert stored(app) == []
    assert queued_mail(app) == 0


def test_every_error_is_reported_at_once(client):
    error = assert_error(post(client, {"type": "access", "details": []}), 422, "validation_error")
    assert {"email", "name", "details"} <= set(error["fields"])


def test_a_json_array_is_422(app, client):
    error = assert_error(post(client, [1, 2]), 422, "validation_error")
    assert "_schema" in error["fields"]
    assert stored(app) == []


@pytest.mark.parametrize(
    "data",
    [
        b'{"type": "access",',
        b"",
        b'{"type": "\xff"}',
        b"[" * 60_000,
        b'{"type": "access", "email": "a@example.com", "name": "\\ud800"}',
    ],
)
def test_bytes_that_are_not_json_are_400(app, client, data):
    error = assert_error(post_raw(client, data), 400, "invalid_json")
    assert "JSON" in error["message"]
    assert stored(app) == []


def test_form_body_is_415(app, client):
    response = post_raw(
        client, b"type=access&email=a%40example.com", "application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")
    assert stored(app) == []


def test_body_over_the_limit_is_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    response = post(app.test_client(), payload(details={"note": "x" * 2000}))
    assert_error(response, 413, "request_entity_too_large")
    assert stored(app) == []


def test_no_csrf_token_is_needed(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    assert post(app.test_client(), payload()).status_code == 201


def test_rate_limit_per_email(make_app):
    app = make_app(RATELIMIT_SUBMIT_EMAIL="2 per hour")
    client = app.test_client()
    assert [post(client, payload()).status_code for _ in range(2)] == [201, 201]
    assert_error(post(client, payload(email="ALICE@example.com")), 429, "too_many_requests")
    assert post(client, payload(email="bob@example.com")).status_code == 201
    assert len(stored(app)) == 3


# --- errors elsewhere under /api/ -----------------------------------------------------


def test_unknown_api_path_is_json_404(client):
    assert_error(checked(client.get("/api/v1/nope")), 404, "not_found")


def test_wrong_method_is_json_405(client):
    assert_error(checked(client.delete(URL)), 405, "method_not_allowed")
    assert_error(checked(client.delete("/api/v1/health")), 405, "method_not_allowed")


# --- health ---------------------------------------------------------------------------


def test_health_ok(client):
    response = checked(client.get("/api/v1/health"))
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_health_redis_down_answers_fast(make_app):
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    started = time.monotonic()
    response = checked(client.get("/api/v1/health"))
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "ok", "redis": "down"}


def test_intake_with_redis_down_is_503_and_stores_nothing(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    response = app.test_client().post("/api/v1/requests", json=payload())
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
    with app.app_context():
        assert db.session.scalar(select(func.count(DataRequest.id))) == 0


def test_health_database_down(make_app):
    client = make_app(SQLALCHEMY_DATABASE_URI="sqlite:////nonexistent-dir/x.sqlite3").test_client()
    response = checked(client.get("/api/v1/health"))
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "down", "redis": "ok"}


def test_health_is_not_rate_limited(make_app):
    client = make_app(RATELIMIT_SUBMIT_IP="1 per hour").test_client()
    assert {client.get("/api/v1/health").status_code for _ in range(5)} == {200}


# --- OpenAPI --------------------------------------------------------------------------


@pytest.fixture
def openapi_doc(client) -> dict:
    response = checked(client.get("/api/v1/openapi.json"))
    assert response.status_code == 200
    return json.loads(response.data)


def test_openapi_document(openapi_doc):
    assert openapi_doc["openapi"].startswith("3.")
    create = openapi_doc["paths"]["/requests"]["post"]
    assert {"201", "400", "413", "415", "422", "429"} <= set(create["responses"])
    assert "get" in openapi_doc["paths"]["/health"]
    assert openapi_doc["servers"][0]["url"] == "http://dsr.test/api/v1"


def test_openapi_document_is_valid(openapi_doc):
    openapi_spec_validator.validate(openapi_doc)


def test_openapi_documents_details_per_type(openapi_doc):
    schemas = openapi_doc["components"]["schemas"]
    details = schemas["NewRequest"]["properties"]["details"]
    assert len(details["anyOf"]) == len(VALID_DETAILS)
    for type_name in VALID_DETAILS:
        assert f"`{type_name}`" in details["description"]
    assert "ground" in schemas["RestrictionDetails"]["required"]
    assert schemas["NewRequest"]["properties"]["type"]["enum"] == list(VALID_DETAILS)


@pytest.mark.parametrize("type_name", sorted(VALID_DETAILS))
def test_openapi_schema_accepts_what_the_api_accepts(openapi_doc, type_name):
    schema = {"$ref": "#/components/schemas/NewRequest", **openapi_doc}
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(payload(type=type_name, details=VALID_DETAILS[type_name]))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(payload(type=type_name, details={"nonsense": 1}))


def test_openapi_is_built_once_per_app(app, client):
    client.get("/api/v1/openapi.json")
    cached = app.extensions["dsr.openapi"]
    client.get("/api/v1/openapi.json")
    assert app.extensions["dsr.openapi"] is cached
