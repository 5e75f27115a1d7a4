"""One-line fields refuse line breaks and control characters; free texts keep line breaks.

A name with a line break was copied into the verification email's headers and
body: anyone could make the controller send text of their choosing to any address.
"""

import html

import pytest
from conftest import csrf_token, outbox_messages
from sqlalchemy import func, select

from dsr.extensions import db
from dsr.models import DataRequest
from workflows.fields import forbidden_characters

URL = "/api/v1/requests"
ONE_LINE = "Write this on one line, without line breaks or control characters."
CONTROL = "Remove the control characters from this text."
INJECTION = "Alice\r\nBcc: everyone@example.net\r\n\r\nYour account is closed, click here"


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def body(type_="access", details=None, **changes) -> dict:
    payload = {
        "type": type_,
        "email": "alice@example.org",
        "name": "Alice Martin",
        "identifiers": {},
        "details": details or {},
    }
    payload.update(changes)
    return payload


def change(**values) -> dict:
    return {"changes": [{"field": "address", "corrected_value": "1 rue de la Paix", **values}]}


#: (payload, the path the error names): every one-line field of intake and of the workflows
ONE_LINE_FIELDS = [
    (lambda v: body(name=v), "name"),
    (lambda v: body(identifiers={"phone": v}), "identifiers.phone"),
    (lambda v: body(identifiers={"customer_number": v}), "identifiers.customer_number"),
    (lambda v: body("rectification", change(field=v)), "details.changes.0.field"),
    (lambda v: body("rectification", change(current_value=v)), "details.changes.0.current_value"),
    (
        lambda v: body("rectification", change(corrected_value=v)),
        "details.changes.0.corrected_value",
    ),
    (
        lambda v: body(
            "objection", {"basis": "particular_situation", "processing": v, "grounds": "x"}
        ),
        "details.processing",
    ),
    (
        lambda v: body(
            "portability", {"recipient_name": v, "recipient_email": "dpo@other.example"}
        ),
        "details.recipient_name",
    ),
    (
        lambda v: body(
            "post_mortem",
            {
                "mode": "directives",
                "directive": "hand_over",
                "trusted_person_name": v,
                "trusted_person_email": "bob@example.org",
            },
        ),
        "details.trusted_person_name",
    ),
    (
        lambda v: body(
            "post_mortem",
            {
                "mode": "death_notice",
                "requester_role": "heir",
                "deceased_name": v,
                "date_of_death": "2025-01-02",
            },
        ),
        "details.deceased_name",
    ),
    (lambda v: body("consent_withdrawal", {"purposes": [v]}), "details.purposes.0"),
]


def stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DataRequest))


def nothing_stored_nor_sent(app, run_jobs) -> bool:
    run_jobs()
    return stored(app) == 0 and outbox_messages(app) == []


def refused_as_one_line(response, path: str) -> bool:
    error = response.get_json()["error"]
    assert response.status_code == 422 and error["code"] == "validation_error"
    return error["fields"] == {path: [ONE_LINE]}


@pytest.mark.parametrize(("make", "path"), ONE_LINE_FIELDS, ids=[p for _, p in ONE_LINE_FIELDS])
def test_the_api_refuses_a_line_break_in_every_one_line_field(app, client, make, path):
    assert refused_as_one_line(client.post(URL, json=make(INJECTION)), path)
    assert stored(app) == 0


@pytest.mark.parametrize("value", ["Alice\nMartin", "Alice\x00", "A\u2028B", "A\tB", "A\x1bB"])
def test_the_api_refuses_any_control_character_in_a_name(app, client, run_jobs, value):
    assert refused_as_one_line(client.post(URL, json=body(name=value)), "name")
    assert nothing_stored_nor_sent(app, run_jobs)


def test_free_text_keeps_line_breaks_and_tabs(app, client):
    note = "Mostly my orders.\r\n\tFrom 2023 on,\nplease."
    response = client.post(URL, json=body(details={"note": note}))
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.scalars(select(DataRequest)).one().details["note"] == note


@pytest.mark.parametrize("value", ["bell\x07", "escape \x1b[31mred", "null\x00", "A\u2029B"])
def test_free_text_refuses_other_control_characters(app, client, value):
    response = client.post(URL, json=body(details={"note": value}))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"details.note": [CONTROL]}
    assert stored(app) == 0


def test_the_form_shows_the_message_beside_the_name(app, client, run_jobs):
    url = "/requests/new?type=access"
    form = {"email": "alice@example.org", "name": INJECTION, "csrf_token": csrf_token(client, url)}
    response = client.post(url, data=form)
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert 'id="f-name-error"' in text and ONE_LINE in text
    assert nothing_stored_nor_sent(app, run_jobs)


def test_forbidden_characters():
    assert not forbidden_characters("Élodie O'Brien-Ünal", multiline=False)
    assert forbidden_characters("a\nb", multiline=False)
    assert not forbidden_characters("a\r\n\tb", multiline=True)
    assert forbidden_characters("a\x85b", multiline=True)  # NEL, a C1 control
