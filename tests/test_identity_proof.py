"""Proof of identifiers without the demo systems: codes, pages, the staff API, SMS backends."""

import json
import re
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import csrf_token, free_port
from fixtures_staff import bearer, english, new_case, staff_instance
from sqlalchemy import select

from dsr import audit, signing
from dsr.config import ConfigError
from dsr.extensions import db
from dsr.identity import codes
from dsr.identity.masking import mask
from dsr.models import AuditEvent, DataRequest, IdentityClaim
from dsr.models.types import utcnow

PHONE = "+33612345678"  # the phone `new_case` gives
MASKED = "+33 6 •• •• •• 78"
#: the code in a text message (not the digits of the reference before it)
CODE = re.compile(r"(?<![-\d])(\d{6})(?!\d)")


@pytest.fixture
def app(make_app):
    return make_app(INSTANCE=staff_instance())


def request_of(app, ref: str) -> DataRequest:
    return db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()


def status_page(app, ref: str) -> str:
    with app.app_context():
        return "/status/" + signing.sign(signing.Purpose.STATUS, request_of(app, ref).id)


def ask_code(client, page: str, form_page: str | None = None):
    form = {"csrf_token": csrf_token(client, form_page or page), "value": PHONE}
    return client.post(page + "/identifiers/phone/code", data=form)


def enter_code(client, page: str, code: str):
    form = {"csrf_token": csrf_token(client, page), "value": PHONE, "code": code}
    return client.post(page + "/identifiers/phone/prove", data=form)


def sent_code(app) -> str:
    [path] = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.sms.json"))[-1:]
    return CODE.search(json.loads(path.read_text())["text"]).group(1)


def all_audit_data(app) -> str:
    with app.app_context():
        return json.dumps(
            [e.data for e in db.session.scalars(select(AuditEvent))], ensure_ascii=False
        )


def test_masks():
    assert mask("phone", "+33639980001") == "+33 6 •• •• •• 01"
    assert mask("customer_number", "MD-000001") == "MD•••••01"


def test_the_status_page_says_what_is_still_to_prove(app):
    ref = new_case(app, "processing")
    client = english(app.test_client())
    text = client.get(status_page(app, ref)).get_data(as_text=True)
    assert MASKED in text and "still to prove: we do not use it yet" in text
    assert "Send me a code" in text and "Code received by text message" not in text
    french = app.test_client().get(status_page(app, ref) + "?lang=fr").get_data(as_text=True)
    assert "à prouver" in french and "Envoyez-moi un code" in french


def test_a_right_code_proves_the_phone(app, run_jobs):
    ref = new_case(app, "open")
    client, page = english(app.test_client()), status_page(app, ref)
    assert ask_code(client, page).status_code == 303
    run_jobs()
    code = sent_code(app)
    assert "Code received by text message" in client.get(page).get_data(as_text=True)
    assert enter_code(client, page, code).status_code == 303
    with app.app_context():
        [claim] = db.session.scalars(select(IdentityClaim)).all()
        assert (claim.status, claim.method, claim.decided_by) == ("proven", "sms_code", "subject")
        assert claim.code_hash is None
    assert ask_code(client, page).status_code == 422  # proven already: no more codes
    audit_data = all_audit_data(app)
    assert PHONE not in audit_data and "612345678" not in audit_data and MASKED in audit_data


def test_wrong_codes_void_the_code_after_five(app, run_jobs):
    ref = new_case(app, "open")
    client, page = english(app.test_client()), status_page(app, ref)
    ask_code(client, page)
    run_jobs()
    right = sent_code(app)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(codes.CODE_ATTEMPTS):
        answer = enter_code(client, page, wrong)
        assert answer.status_code == 400
        assert "This code is not the right one." in answer.get_data(as_text=True)
    answer = enter_code(client, page, right)  # too late: the code is void
    assert answer.status_code == 422 and "ask for a new one" in answer.get_data(as_text=True)
    assert enter_code(client, page, "12ab").status_code == 400
    with app.app_context():
        kinds = [e.kind for e in audit.events_for(request_of(app, ref).id)]
        assert kinds.count("identity.code_failed") == 1 and "identity.proven" not in kinds
        failed = next(
            e for e in audit.events_for(request_of(app, ref).id) if e.kind.endswith("failed")
        )
        assert failed.data == {"kind": "phone", "value": MASKED, "attempts": 5}


def test_an_expired_code_is_refused(app, run_jobs):
    ref = new_case(app, "open")
    client, page = english(app.test_client()), status_page(app, ref)
    ask_code(client, page)
    run_jobs()
    with app.app_context():
        claim = db.session.scalars(select(IdentityClaim)).one()
        claim.code_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    answer = enter_code(client, page, sent_code(app))
    assert answer.status_code == 422 and "This code has expired" in answer.get_data(as_text=True)


def test_codes_are_rate_limited_per_request(make_app):
    app = make_app(INSTANCE=staff_instance(), RATELIMIT_SMS_CODE="2 per hour")
    ref = new_case(app, "open")
    client, page = english(app.test_client()), status_page(app, ref)
    assert [ask_code(client, page).status_code for _ in range(3)] == [303, 303, 429]


def test_a_closed_request_takes_no_proof(app):
    ref = new_case(app, "completed")
    client, page = english(app.test_client()), status_page(app, ref)
    assert "Send me a code" not in client.get(page).get_data(as_text=True)
    assert ask_code(client, page, "/requests/resend").status_code == 409


def test_the_http_gateway_gets_the_message(make_app, run_jobs, tmp_path):
    port, record = free_port(), tmp_path / "gateway.jsonl"
    gateway = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "sms_gateway_process.py"), str(port), record]
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/messages"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        app = make_app(
            INSTANCE=staff_instance(),
            SMS_BACKEND="http",
            SMS_GATEWAY_URL=url,
            SMS_GATEWAY_TOKEN="gateway-token-123",
        )
        ref = new_case(app, "open")
        client, page = english(app.test_client()), status_page(app, ref)
        assert ask_code(client, page).status_code == 303
        run_jobs(app)
        [entry] = [json.loads(line) for line in record.read_text().splitlines()]
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)
    assert entry["path"] == "/v1/messages" and entry["authorization"] == "Bearer gateway-token-123"
    assert entry["content_type"] == "application/json"
    assert set(entry["body"]) == {"to", "text"} and entry["body"]["to"] == PHONE
    code = CODE.search(entry["body"]["text"]).group(1)
    assert enter_code(client, page, code).status_code == 303
    assert not list(Path(app.config["OUTBOX_DIR"]).glob("*.sms.json"))


def test_the_http_backend_needs_a_gateway(make_app):
    with pytest.raises(ConfigError, match="SMS_GATEWAY_URL"):
        make_app(SMS_BACKEND="http")
    with pytest.raises(ConfigError, match="SMS_BACKEND"):
        make_app(SMS_BACKEND="carrier-pigeon")


def test_the_dev_outbox_lists_text_messages(app, run_jobs):
    ref = new_case(app, "open")
    client, page = english(app.test_client()), status_page(app, ref)
    ask_code(client, page)
    run_jobs()
    text = client.get("/dev/outbox").get_data(as_text=True)
    assert "Text messages" in text and PHONE in text and sent_code(app) in text


# --- the handler's side ---------------------------------------------------


def test_the_case_page_proves_an_identifier(app, handler_client, viewer_client):
    ref = new_case(app, "processing")
    url = f"/staff/requests/{ref}"
    seen = viewer_client.get(url).get_data(as_text=True)
    assert "1 identifier still to prove" in seen and "Mark as proven" not in seen
    page = handler_client.get(url).get_data(as_text=True)
    assert "Mark as proven" in page and PHONE in page
    form = {
        "csrf_token": csrf_token(handler_client, url),
        "prefix": "prove-phone-0",
        "prove-phone-0-value": PHONE,
        "prove-phone-0-note": "",
    }
    empty = handler_client.post(f"{url}/identifiers/phone/prove", data=form)
    assert empty.status_code == 303
    assert "Say what you looked at" in handler_client.get(url).get_data(as_text=True)
    form["prove-phone-0-note"] = "Phone bill in the person's name, sent by post."
    assert handler_client.post(f"{url}/identifiers/phone/prove", data=form).status_code == 303
    page = handler_client.get(url).get_data(as_text=True)
    assert "Proven by a handler" in page and "still to prove" not in page
    assert "Phone bill in the person" in page
    with app.app_context():
        [event] = [
            e for e in audit.events_for(request_of(app, ref).id) if e.kind == "identity.proven"
        ]
        assert event.actor == "staff:handler@staff.example"
        assert event.data == {"kind": "phone", "value": MASKED, "method": "handler"}


def test_nothing_to_run_again_is_said(app, handler_client):
    ref = new_case(app, "review")
    url = f"/staff/requests/{ref}"
    assert "Run again with the proven identifiers" not in handler_client.get(url).get_data(
        as_text=True
    )
    answer = handler_client.post(
        f"{url}/rerun", data={"csrf_token": csrf_token(handler_client, url)}
    )
    assert answer.status_code == 303
    assert "Nothing was run again" in handler_client.get(url).get_data(as_text=True)


def api_prove(app, token: str, ref: str, kind: str = "phone", **body):
    return app.test_client().post(
        f"/api/v1/requests/{ref}/identifiers/{kind}/prove",
        json=body,
        headers={**bearer(token), "Accept-Language": "en"},
    )


def error(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


def test_the_api_proves_an_identifier(app, staff_tokens):
    ref = new_case(app, "open")
    note = "Checked against the contract the person sent."
    assert error(api_prove(app, staff_tokens["viewer"], ref, value=PHONE, note=note), 403)
    assert (
        error(
            api_prove(app, staff_tokens["handler"], "DSR-2020-000999", value=PHONE, note=note), 404
        )["code"]
        == "not_found"
    )
    wrong = error(
        api_prove(app, staff_tokens["handler"], ref, value="+33699999999", note=note), 422
    )
    assert wrong["code"] == "not_claimed" and "value" in wrong["fields"]
    assert error(
        api_prove(app, staff_tokens["handler"], ref, "email", value="alice@example.org", note=note),
        422,
    )
    assert error(api_prove(app, staff_tokens["handler"], ref, value=PHONE), 422)["fields"] == {
        "note": ["This field is required."]
    }
    proven = api_prove(app, staff_tokens["admin"], ref, value="06 12 34 56 78", note=note)
    assert proven.status_code == 200
    assert proven.get_json() == {
        "kind": "phone",
        "value": PHONE,
        "status": "proven",
        "method": "handler",
        "decided_by": "staff:api-admin@staff.example",
        "decided_at": proven.get_json()["decided_at"],
        "note": note,
    }
    again = error(api_prove(app, staff_tokens["handler"], ref, value=PHONE, note=note), 409)
    assert again["code"] == "already_proven"
    detail = app.test_client().get(
        f"/api/v1/requests/{ref}", headers=bearer(staff_tokens["viewer"])
    )
    assert detail.get_json()["identity"][0]["status"] == "proven"


def test_openapi_describes_the_proof(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = doc["paths"]["/requests/{ref}/identifiers/{kind}/prove"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(operation["responses"])
    assert operation["security"] == [{"bearerAuth": []}]
