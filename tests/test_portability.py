"""Portability (Art. 20): the register's scope, the pack of provided data only, and the
transmission to another controller by a signed pull link (Art. 20(2))."""

import csv
import io
import json
import tomllib

import pytest
from conftest import outbox_messages
from fixtures_answers import by_ref, case_url, in_review, kinds, press
from fixtures_staff import bearer, english, get_request
from pack_contents import unzip

import workflows
from dsr import audit, signing, systems
from dsr.config import DEMO_CONFIG, load_instance
from dsr.signing import Purpose
from workflows.base import Case
from workflows.processing_register import portable_scope

MASTER = "44" * 32
#: a register with one activity per legal basis that matters here
REGISTER = {
    "activities": [
        {
            "id": "account",
            "legal_basis": "contract",
            "fields": ["crm.contacts.email", "crm.contacts.name", "crm.contacts.score"],
            "provided_fields": ["crm.contacts.email", "crm.contacts.name"],
        },
        {"id": "newsletter", "legal_basis": "consent", "fields": ["crm.consents"]},
        {"id": "support", "legal_basis": "legitimate_interest", "fields": ["crm.notes"]},
        {"id": "accounting", "legal_basis": "legal_obligation", "fields": ["billing.invoices"]},
    ]
}
CRM = {
    "contacts": [
        {"email": "alice@example.org", "name": "Alice Martin", "score": 71, "segment": "gold"}
    ],
    "consents": [{"purpose": "newsletter", "given_at": "2025-03-01", "text": "=HYPERLINK(1)"}],
    "notes": [{"text": "called, asked about the invoice"}],
}
BILLING = {"invoices": [{"number": "F-0001", "amount": 12.5}]}
RECIPIENT = {"recipient_name": "Nouvelle Banque SA", "recipient_email": "dpo@nouvelle.example"}


@pytest.fixture
def app(make_app):
    instance = load_instance(str(DEMO_CONFIG))
    instance["register"] = REGISTER
    return make_app(DSR_DATA_KEY=MASTER, INSTANCE=instance)


def portability_in_review(app, details=None, language="en") -> str:
    return in_review(
        app,
        {"crm": CRM, "billing": BILLING},
        language,
        type_="portability",
        details=details or {},
    )


def release(app, client, ref, run_jobs) -> None:
    assert press(client, ref).status_code == 303
    run_jobs()
    assert get_request(app, ref).status == "completed"


def mails(app, template: str) -> list:
    return [m for m in outbox_messages(app) if m["X-DSR-Template"] == template]


def link(message, marker: str) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    [url] = [word for word in body.split() if marker in word]
    return url.removeprefix("http://dsr.test")


def test_the_demo_register_makes_only_provided_consent_and_contract_data_portable():
    register = tomllib.loads(DEMO_CONFIG.read_text())["register"]
    scope = portable_scope(register)
    assert scope[("crm", "contacts")] == {
        "first_name",
        "last_name",
        "email",
        "phone",
        "postal_address",
    }
    assert scope[("crm", "accounts")] == {"language"}  # a whole table elsewhere, not provided
    assert scope[("crm", "consents")] is None and scope[("billing", "trips")] is None
    assert scope[("sms", "subscriptions")] is None
    for generated in (("sms", "messages"), ("billing", "payments"), ("crm", "tickets")):
        assert generated not in scope  # sent by us, a provider's result, legitimate interest
    assert ("billing", "invoices") not in scope and ("crm", "login_events") not in scope


def test_portability_asks_only_the_systems_that_hold_portable_data(make_app, demo_connectors):
    instance = load_instance(str(DEMO_CONFIG))
    instance["connectors"] = demo_connectors
    instance["register"] = REGISTER  # only the CRM holds consent or contract data here
    app = make_app(INSTANCE=instance)
    with app.app_context():
        connectors = systems.all_connectors().values()
        case = Case(systems.register())
        planned = workflows.get("portability").plan(connectors, case)
        assert [(s.connector.name, s.action) for s in planned] == [("crm", "access")]
        everything = workflows.get("access").plan(connectors, case)
        assert {s.connector.name for s in everything} == {"crm", "billing", "sms"}


def test_the_pack_holds_only_the_provided_data_without_a_letter(app, handler_client, run_jobs):
    english(handler_client)
    ref = portability_in_review(app)
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Fields that go out" in page and "email, name" in page
    assert "notes" not in page.split('id="release"')[1]  # legitimate interest: not portable
    assert "(data only)" in page
    release(app, handler_client, ref, run_jobs)
    [mail] = mails(app, "answer_ready")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "access-report.docx" not in body and "data you provided" in body
    archive = unzip(handler_client.get(f"{case_url(ref)}/export").get_data())
    names = set(archive.namelist())
    assert names == {
        "README.txt",
        "data.json",
        "crm/contacts.csv",
        "crm/consents.csv",
        "manifest.json",
    }
    data = json.loads(archive.read("data.json"))
    tables = data["systems"]["crm"]["tables"]
    assert tables == {
        "contacts": [{"email": "alice@example.org", "name": "Alice Martin"}],
        "consents": CRM["consents"],  # a whole table: every column, the raw value kept
    }
    assert "billing" not in data["systems"]
    rows = list(csv.reader(io.StringIO(archive.read("crm/consents.csv").decode("utf-8-sig"))))
    assert rows[0] == ["purpose", "given_at", "text"]
    assert rows[1] == ["newsletter", "2025-03-01", "'=HYPERLINK(1)"]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["type"] == "portability"
    assert {entry["name"] for entry in manifest["files"]} == names - {"manifest.json"}
    readme = archive.read("README.txt").decode("utf-8")
    assert "Article 20" in readme and "access-report.docx" not in readme


def test_without_a_recipient_nothing_can_be_sent(app, handler_client, staff_tokens, run_jobs):
    english(handler_client)
    ref = portability_in_review(app)
    release(app, handler_client, ref, run_jobs)
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Send the data to this organisation" not in page
    response = app.test_client().post(
        f"/api/v1/requests/{ref}/transmit", headers=bearer(staff_tokens["handler"])
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "no_recipient"
    body = mails(app, "answer_ready")[0].get_body(preferencelist=("plain",)).get_content()
    assert "send these data to" not in body
    assert not mails(app, "transfer_link") and "transmission.sent" not in kinds(app, ref)


def test_the_pack_is_sent_to_the_named_controller_by_a_pull_link(
    app, handler_client, staff_tokens, run_jobs
):
    english(handler_client)
    ref = portability_in_review(app, RECIPIENT)
    api = english(app.test_client())
    url = f"/api/v1/requests/{ref}/transmit"
    early = api.post(url, headers=bearer(staff_tokens["handler"]))
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_released"
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Nouvelle Banque SA" in page and "Once the answer is released" in page
    release(app, handler_client, ref, run_jobs)
    body = mails(app, "answer_ready")[0].get_body(preferencelist=("plain",)).get_content()
    assert "Nouvelle Banque SA" in body  # the person knows it is to come

    assert api.post(url, headers=bearer(staff_tokens["viewer"])).status_code == 403
    assert press(handler_client, ref, "transmit").status_code == 303
    run_jobs()
    [to_recipient] = mails(app, "transfer_link")
    assert to_recipient["To"] == "dpo@nouvelle.example"
    [to_person] = mails(app, "transfer_sent")
    assert to_person["To"] == "alice@example.org"
    assert "Nouvelle Banque SA" in to_person.get_body(preferencelist=("plain",)).get_content()

    subject_copy = api.get(link(mails(app, "answer_ready")[0], "/download/")).get_data()
    page = api.get(link(to_recipient, "/transfer/"))  # what a mail scanner would open
    assert page.status_code == 200 and "Download the data (ZIP)" in page.get_data(as_text=True)
    assert "transmission.downloaded" not in kinds(app, ref)  # a GET takes nothing
    pulled = api.post(
        link(to_recipient, "/transfer/"), environ_base={"REMOTE_ADDR": "198.51.100.4"}
    )
    assert pulled.status_code == 200 and pulled.mimetype == "application/zip"
    assert pulled.get_data() == subject_copy  # the same pack
    with app.app_context():
        events = audit.events_for(by_ref(ref).id)
    sent = [e for e in events if e.kind == "transmission.sent"]
    assert sent[0].data == {"recipient_domain": "nouvelle.example"}
    downloaded = [e for e in events if e.kind == "transmission.downloaded"]
    assert downloaded[0].actor == "recipient" and downloaded[0].data["client"] == "198.51.100.4"
    assert any(e.kind == "mail.sent" and e.data.get("to") == "recipient" for e in events)

    again = api.post(url, headers=bearer(staff_tokens["handler"]))
    assert again.status_code == 202 and again.get_json()["transmitted_at"]
    run_jobs()
    old, new = (link(m, "/transfer/") for m in mails(app, "transfer_link"))
    replaced = api.post(old)
    assert replaced.status_code == 409 and "newer link voids" in replaced.get_data(as_text=True)
    assert api.post(new).status_code == 200


def test_the_status_page_tells_the_person(app, handler_client, run_jobs):
    ref = portability_in_review(app, RECIPIENT)
    release(app, handler_client, ref, run_jobs)
    press(handler_client, ref, "transmit")
    run_jobs()
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with app.app_context():
        status_url = f"/status/{signing.sign(Purpose.STATUS, by_ref(ref).id)}"
    page = client.get(status_url).get_data(as_text=True)
    assert "We sent your data to the organisation you named." in page
    assert "We emailed the organisation you named a link to your data." in page


def test_an_expired_or_tampered_transfer_link_gets_a_clear_page(app, handler_client, run_jobs):
    ref = portability_in_review(app, RECIPIENT)
    release(app, handler_client, ref, run_jobs)
    press(handler_client, ref, "transmit")
    run_jobs()
    url = link(mails(app, "transfer_link")[0], "/transfer/")
    client = app.test_client()
    for language, words in (
        ("en", "This link no longer gives the data"),
        ("fr", "Ce lien ne donne plus accès aux données"),
    ):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        tampered = client.get(url[:-4] + "abcd")
        assert tampered.status_code == 400 and words in tampered.get_data(as_text=True)
    app.config["TRANSFER_LINK_MAX_AGE"] = -1  # read at each load, as in production
    expired = client.post(url)
    assert expired.status_code == 410 and client.get(url).status_code == 410
    assert "transmission.downloaded" not in kinds(app, ref)
