"""Identifiers other than the email are claimed until proven: end to end against the demo systems.

The reproduction of issue 7: a request from another address carrying Camille
Durand's phone number must collect none of her records, and an objection
carrying someone's phone must not change their preferences. Once the phone
is proven (a code sent by text message, or a handler's decision), the systems
that find people by phone answer; a record found by the phone but carrying
another email address is withheld until a handler decides.
"""

import json
import re
from pathlib import Path

import pytest
from access_steps import submit_and_confirm, tasks_of, wait_for_status
from conftest import csrf_token, links_in_outbox
from fixtures_staff import PASSWORD, bearer, login
from sqlalchemy import select

from connectors.demo.people import SHOWCASE
from dsr import audit, results, staff
from dsr.extensions import db
from dsr.identity import rerun
from dsr.models import DataRequest, Task
from dsr.models.task import TaskStatus as T
from dsr.status import RequestStatus as S

CAMILLE = SHOWCASE["everywhere"]
LEO = SHOWCASE["sms_only"]
ATTACKER = "attacker@example.net"
CAMILLE_PHONE = "+33 6 39 98 00 01"
#: the code in a text message (not the digits of the reference before it)
CODE = re.compile(r"(?<![-\d])(\d{6})(?!\d)")


@pytest.fixture
def app(engine):
    """The staff fixtures work on the served engine."""
    return engine


def rerun_as_handler(app, ref: str) -> list[str]:
    with app.app_context():
        req = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        return [task.connector for task in rerun.rerun(req, actor="staff:handler@staff.example")]


def status_path(app) -> str:
    """The status page of the last confirmed request, from its confirmation email."""
    return "/" + links_in_outbox(app, "/status/")[-1].split("://", 1)[1].split("/", 1)[1]


def text_messages(app) -> list[dict]:
    folder = Path(app.config["OUTBOX_DIR"])
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.sms.json"))]


def event_kinds(app, ref: str) -> list[str]:
    with app.app_context():
        req = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        return [event.kind for event in audit.events_for(req.id)]


def test_someone_elses_phone_collects_none_of_their_records(engine, run_jobs):
    ref = submit_and_confirm(engine, run_jobs, email=ATTACKER, phone=CAMILLE_PHONE)
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    tasks = tasks_of(engine, ref)
    assert {name: t.record_counts for name, t in tasks.items()} == dict.fromkeys(
        ("crm", "billing", "sms"), {}
    )
    assert tasks["sms"].status == T.SKIPPED and tasks["sms"].attempts == 0
    assert "phone given is not proven yet" in tasks["sms"].outcome
    with engine.app_context():
        assert not results.request_folder(ref).exists()  # nothing of hers was ever written


def test_a_phone_proven_by_code_lets_the_sms_platform_answer(engine, run_jobs):
    ref = submit_and_confirm(engine, run_jobs, CAMILLE, phone="06 39 98 00 01")
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    assert tasks_of(engine, ref)["sms"].status == T.SKIPPED
    client = engine.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = status_path(engine)
    assert "still to prove" in client.get(page).get_data(as_text=True)

    form = {"csrf_token": csrf_token(client, page), "position": "0"}
    sent = client.post(page + "/identifiers/phone/code", data=form)
    assert sent.status_code == 303, sent.get_data(as_text=True)
    run_jobs(engine)  # the text message
    [message] = text_messages(engine)
    assert message["to"] == "+33639980001" and message["reference"] == ref
    code = CODE.search(message["text"]).group(1)
    form = {"csrf_token": csrf_token(client, page), "position": "0", "code": code}
    proven = client.post(page + "/identifiers/phone/prove", data=form)
    assert proven.status_code == 303
    text = client.get(page).get_data(as_text=True)
    assert "proven: we use it to find your data" in text and "still to prove" not in text

    assert sorted(rerun_as_handler(engine, ref)) == ["billing", "crm", "sms"]
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    tasks = tasks_of(engine, ref)
    assert tasks["sms"].status == T.SUCCEEDED and tasks["sms"].record_counts["messages"] == 6
    assert tasks["billing"].record_counts["trips"] == 14  # her own email: nothing withheld
    kinds = event_kinds(engine, ref)
    assert {"identity.code_sent", "sms.sent", "identity.proven", "identity.tasks_rerun"} <= set(
        kinds
    )
    assert "identity.answer_withheld" not in kinds
    with engine.app_context():  # the chain, which can never forget, never held her number
        req = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        chain = json.dumps([event.data for event in audit.events_for(req.id)], ensure_ascii=False)
    assert "39980001" not in chain and "+33 6" not in chain and "•" not in chain


def signed_in_handler(app):
    """An English client signed in through the form with a new handler account."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with app.app_context():
        staff.create_user("handler-case@staff.example", "handler", PASSWORD)
        db.session.commit()
    assert login(client, "handler-case@staff.example").status_code == 303
    return client


def test_a_handler_proof_withholds_records_of_another_email(engine, run_jobs, staff_tokens):
    ref = submit_and_confirm(engine, run_jobs, email=ATTACKER, phone=CAMILLE_PHONE)
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    api, case, url = engine.test_client(), signed_in_handler(engine), f"/staff/requests/{ref}"
    assert "1 identifier still to prove" in case.get(url).get_data(as_text=True)
    headers = {**bearer(staff_tokens["handler"]), "Accept-Language": "en"}
    path = f"/api/v1/requests/{ref}/identifiers/phone/prove"
    body = {"value": "06 39 98 00 01", "note": "The person sent a phone bill in their name."}
    answer = api.post(path, json=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "proven" and answer.get_json()["method"] == "handler"

    page = case.get(url).get_data(as_text=True)
    assert "still to prove" not in page and "Run again with the proven identifiers" in page
    assert "Runs again: Billing, CRM, SMS platform." in page
    again = case.post(f"{url}/rerun", data={"csrf_token": csrf_token(case, url)})
    assert again.status_code == 303
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    tasks = tasks_of(engine, ref)
    assert tasks["sms"].record_counts["messages"] == 6  # the phone's own records carry no email
    assert tasks["billing"].record_counts == {} and tasks["crm"].record_counts == {}
    detail = api.get(f"/api/v1/requests/{ref}", headers=headers).get_json()
    withheld = {t["connector"]: t["withheld"] for t in detail["tasks"]}
    assert withheld["sms"] is None
    assert withheld["billing"]["status"] == "held" and withheld["billing"]["other_email"] == 1
    assert withheld["billing"]["record_counts"]["trips"] == 14
    assert detail["identity"][0]["status"] == "proven"

    page = case.get(url).get_data(as_text=True)
    assert "1 record carries another email address than the confirmed one" in page
    assert "Withheld: records carrying another email address" in page
    assert CAMILLE.email in page.lower()  # the handler sees what is withheld before deciding
    token = csrf_token(case, url)
    released = case.post(
        f"/staff/tasks/{tasks['billing'].id}/withheld/release", data={"csrf_token": token}
    )
    assert released.status_code == 303
    discarded = case.post(
        f"/staff/tasks/{tasks['crm'].id}/withheld/discard", data={"csrf_token": token}
    )
    assert discarded.status_code == 303
    tasks = tasks_of(engine, ref)
    assert tasks["billing"].record_counts["trips"] == 14 and tasks["crm"].record_counts == {}
    with engine.app_context():
        billing = db.session.get(Task, tasks["billing"].id)
        [customer] = results.records(billing, "customers")
        assert customer["email"].lower() == CAMILLE.email
        assert not results.task_folder(db.session.get(Task, tasks["crm"].id)).exists()
    kinds = event_kinds(engine, ref)
    assert kinds.count("identity.answer_withheld") == 2
    assert {"identity.answer_released", "identity.answer_discarded"} <= set(kinds)
    assert "Withheld: records" not in case.get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    ("type_", "details"),
    [
        ("objection", {"basis": "direct_marketing"}),
        ("consent_withdrawal", {"purposes": ["sms_promotions"]}),
    ],
)
def test_an_unproven_phone_changes_nothing_of_its_owner(engine, run_jobs, type_, details):
    client = engine.test_client()
    payload = {
        "type": type_,
        "email": ATTACKER,
        "name": "Someone Else",
        "identifiers": {"phone": "06 39 98 00 04"},
        "details": details,
        "language": "en",
    }
    created = client.post("/api/v1/requests", json=payload)
    assert created.status_code == 201, created.get_json()
    run_jobs(engine)
    link = links_in_outbox(engine, "/verify/")[-1].split("://", 1)[1].split("/", 1)[1]
    client.post(f"/{link}", data={"csrf_token": csrf_token(client, f"/{link}")})
    ref = created.get_json()["ref"]
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    sms = tasks_of(engine, ref)["sms"]
    assert (sms.status, sms.attempts) == (T.SKIPPED, 0)  # no notice ever reached the platform

    with engine.app_context():  # a handler holds the number proven: now it is applied
        from dsr.identity import claims

        req = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        claims.prove_by_handler(req, "phone", "+33639980004", note="checked", actor="staff:h")
        db.session.commit()
    # the CRM (email newsletter) finds people by phone too; consent for SMS promotions only
    # concerns the SMS platform
    expected = ["crm", "sms"] if type_ == "objection" else ["sms"]
    assert rerun_as_handler(engine, ref) == expected
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)  # the SMS platform answers by callback
    run_jobs(engine)  # done where asked: the answer is released by itself
    assert wait_for_status(engine, ref, S.COMPLETED).release_requested_by == "system"
    assert "+33639980004 opted out of promotions" in tasks_of(engine, ref)["sms"].outcome
