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
from dsr.identity import codes, withheld
from dsr.identity.claims import prove_by_handler
from dsr.identity.masking import mask
from dsr.models import AuditEvent, DataRequest, IdentityClaim, Task, TaskStatus, WithheldAnswer
from dsr.models.types import utcnow
from dsr.operations import transition_to
from dsr.status import RequestStatus

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


def ask_code(client, page: str, form_page: str | None = None, position: str = "0"):
    """The status page's "Send me a code", which names the phone by its position."""
    form = {"csrf_token": csrf_token(client, form_page or page), "position": position}
    return client.post(page + "/identifiers/phone/code", data=form)


def enter_code(client, page: str, code: str):
    form = {"csrf_token": csrf_token(client, page), "position": "0", "code": code}
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
    assert PHONE not in text and "612345678" not in text  # not even in the forms' fields
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
    assert PHONE not in audit_data and "612345678" not in audit_data
    with app.app_context():
        kinds = {e.kind: e.data for e in audit.events_for(request_of(app, ref).id)}
        assert kinds["identity.code_sent"] == {"kind": "phone", "claim": claim.id}
        assert kinds["identity.proven"] == {
            "kind": "phone",
            "claim": claim.id,
            "method": "sms_code",
        }


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
        claim = db.session.scalars(select(IdentityClaim)).one()
        assert failed.data == {"kind": "phone", "claim": claim.id, "attempts": 5}


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
    answers = [ask_code(client, page) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [303, 303, 429]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 3600


def test_codes_are_rate_limited_per_phone_number(make_app):
    """Requests naming someone's number cannot flood it: the limit follows the number."""
    app = make_app(INSTANCE=staff_instance(), RATELIMIT_SMS_PHONE="2 per day")
    client = english(app.test_client())
    refs = [new_case(app, "open") for _ in range(3)]
    first, second, other = (status_page(app, ref) for ref in refs)
    assert ask_code(client, first, position="7").status_code == 422  # refused ones never count
    assert [ask_code(client, page).status_code for page in (first, second)] == [303, 303]
    refused = ask_code(client, other)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 86400
    with app.app_context():  # a request naming another number is not held back
        req = request_of(app, refs[2])
        req.identifiers = {"phone": "+33698765432"}
        db.session.commit()
    assert ask_code(client, other).status_code == 303


def test_code_checks_are_rate_limited_per_request(make_app, run_jobs):
    app = make_app(INSTANCE=staff_instance(), RATELIMIT_SMS_CODE_CHECK="3 per hour")
    ref = new_case(app, "open")
    client, page = english(app.test_client()), status_page(app, ref)
    ask_code(client, page)
    run_jobs()
    wrong = f"{(int(sent_code(app)) + 1) % 10**6:06d}"
    answers = [enter_code(client, page, wrong) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 3600
    assert enter_code(client, page, sent_code(app)).status_code == 429  # even the right one


def test_an_identifier_the_request_does_not_give_is_refused(make_app):
    app = make_app(INSTANCE=staff_instance(), RATELIMIT_SMS_CODE="10 per hour")
    ref = new_case(app, "open")
    client, page = english(app.test_client()), status_page(app, ref)
    for position in ("1", "-1", "x", ""):
        answer = ask_code(client, page, position=position)
        assert answer.status_code == 422
        assert "not one of the identifiers the request gives" in answer.get_data(as_text=True)


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
        claim = db.session.scalars(select(IdentityClaim)).one()
        assert event.data == {"kind": "phone", "claim": claim.id, "method": "handler"}


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


# --- withheld answers and running again -----------------------------------

OTHER = "camille.durand@example.com"


@pytest.mark.parametrize(
    "record",
    [
        {"email": OTHER},
        {"contactEmail": OTHER},
        {"userEmail": " Camille.Durand@Example.com "},
        {"emails": ["alice@example.org", OTHER]},
        {"mail_pro": OTHER},
        {"email_1": OTHER},
        {"contact": {"email": OTHER}},
        {"people": [{"name": "C", "reach": {"at": [OTHER]}}]},
    ],
)
def test_another_email_is_found_in_any_value(record):
    assert withheld.carries_other_email(record, "alice@example.org")


@pytest.mark.parametrize(
    "record",
    [
        {"email": "Alice@Example.org", "backup": {"emails": [" alice@example.org"]}},
        {"note": "write to camille.durand@example.com"},  # text, not an address
        {"handle": "@camille", "weird": "a@b", "n": 3, "none": None, "flag": True},
        {"camille.durand@example.com": "a key is not a value"},
    ],
)
def test_the_verified_email_and_other_text_are_not_another_email(record):
    assert not withheld.carries_other_email(record, "alice@example.org")


def held_task(app, ref: str, *, hours_ago: int = 1) -> str:
    """A finished task of the "archive" system whose answer carries another email; its id."""
    with app.app_context():
        req = request_of(app, ref)
        task = Task(
            request_id=req.id,
            connector="archive",
            action="access",
            status=TaskStatus.SUCCEEDED,
            finished_at=utcnow() - timedelta(hours=hours_ago),
        )
        db.session.add(task)
        db.session.flush()
        with withheld.writer(task) as sink:
            sink.write("customers", {"name": "C. Durand", "contact": {"email": OTHER}})
            task.record_counts = sink.commit()
        db.session.commit()
        return task.id


def decide(client, url: str, task_id: str, decision: str) -> str:
    answer = client.post(
        f"/staff/tasks/{task_id}/withheld/{decision}", data={"csrf_token": csrf_token(client, url)}
    )
    assert answer.status_code == 303
    return client.get(url).get_data(as_text=True)


def held_status(app, task_id: str) -> str:
    with app.app_context():
        return (
            db.session.scalars(select(WithheldAnswer).where(WithheldAnswer.task_id == task_id))
            .one()
            .status
        )


def test_viewers_see_that_records_are_withheld_not_the_records(app, handler_client, viewer_client):
    ref = new_case(app, "review")
    held_task(app, ref)
    url = f"/staff/requests/{ref}"
    seen = viewer_client.get(url).get_data(as_text=True)
    assert "the answer (1 record) is withheld until a handler decides" in seen
    assert OTHER not in seen and "Withheld: records carrying another email" not in seen
    page = handler_client.get(url).get_data(as_text=True)
    assert OTHER in page and "Withheld: records carrying another email" in page


@pytest.mark.parametrize("closed", ["completed", "results_deleted"])
def test_a_closed_request_takes_no_release(app, handler_client, closed):
    ref = new_case(app, "review")
    task_id = held_task(app, ref)
    with app.app_context():
        req = request_of(app, ref)
        if closed == "completed":
            transition_to(req, RequestStatus.COMPLETED, actor="system")
        else:
            req.results_deleted_at = utcnow()
        db.session.commit()
    url = f"/staff/requests/{ref}"
    page = decide(handler_client, url, task_id, "release")
    assert "withheld records can only be discarded" in page
    assert held_status(app, task_id) == "held"
    decide(handler_client, url, task_id, "discard")
    assert held_status(app, task_id) == "discarded"


def test_a_request_in_review_takes_a_release(app, handler_client):
    ref = new_case(app, "review")
    task_id = held_task(app, ref)
    page = decide(handler_client, f"/staff/requests/{ref}", task_id, "release")
    assert "The withheld records are released into the results." in page
    assert held_status(app, task_id) == "released"


def test_running_again_twice_runs_once(app, handler_client):
    ref = new_case(app, "review")
    held_task(app, ref, hours_ago=2)
    with app.app_context():
        prove_by_handler(request_of(app, ref), "phone", PHONE, note="a bill", actor="staff:h")
        db.session.commit()
    url = f"/staff/requests/{ref}"
    rerun = {"csrf_token": csrf_token(handler_client, url)}
    assert handler_client.post(f"{url}/rerun", data=rerun).status_code == 303
    assert "The tasks run again" in handler_client.get(url).get_data(as_text=True)
    assert handler_client.post(f"{url}/rerun", data=rerun).status_code == 303
    page = handler_client.get(url).get_data(as_text=True)
    assert "Nothing was run again: No task would find more" in page
    with app.app_context():
        kinds = [e.kind for e in audit.events_for(request_of(app, ref).id)]
        assert kinds.count("identity.tasks_rerun") == 1 and kinds.count("task.rerun") == 1


def api_post(app, token: str, path: str):
    return app.test_client().post(
        f"/api/v1{path}", headers={**bearer(token), "Accept-Language": "en"}
    )


def test_the_api_decides_on_withheld_answers(app, staff_tokens):
    released, discarded = (held_task(app, new_case(app, "review")) for _ in range(2))
    assert error(api_post(app, staff_tokens["viewer"], f"/tasks/{released}/withheld/release"), 403)
    assert error(api_post(app, staff_tokens["handler"], "/tasks/nope/withheld/release"), 404)
    assert (
        api_post(app, staff_tokens["handler"], f"/tasks/{released}/withheld/keep").status_code
        == 404
    )
    answer = api_post(app, staff_tokens["handler"], f"/tasks/{released}/withheld/release")
    assert answer.status_code == 200 and answer.get_json()["withheld"]["status"] == "released"
    again = error(
        api_post(app, staff_tokens["handler"], f"/tasks/{released}/withheld/release"), 409
    )
    assert again["code"] == "not_allowed"
    gone = api_post(app, staff_tokens["admin"], f"/tasks/{discarded}/withheld/discard")
    assert gone.status_code == 200 and held_status(app, discarded) == "discarded"


def test_the_api_runs_tasks_again_with_proven_identifiers(app, staff_tokens):
    ref = new_case(app, "review")
    held_task(app, ref, hours_ago=2)
    nothing = error(api_post(app, staff_tokens["handler"], f"/requests/{ref}/rerun"), 409)
    assert nothing["code"] == "nothing_to_rerun"
    with app.app_context():
        prove_by_handler(request_of(app, ref), "phone", PHONE, note="a bill", actor="staff:h")
        db.session.commit()
    assert error(api_post(app, staff_tokens["viewer"], f"/requests/{ref}/rerun"), 403)
    answer = api_post(app, staff_tokens["handler"], f"/requests/{ref}/rerun")
    assert answer.status_code == 200 and answer.get_json()["status"] == "processing"
