"""A death notice carried out end to end (Loi 78-17 Art. 85), against the demo systems as
real processes: Camille registers directives, then after her death the person she named,
or an heir, sends the notice and its documents; a handler checks them, and the engine
erases her data (the legal hold kept) or hands it over to the designated person."""

import datetime as dt
import io
import json
import sqlite3

import docx
import pytest
from access_steps import submit_and_confirm, wait_for_status
from conftest import csrf_token, links_in_outbox, outbox_messages
from fixtures_answers import kinds
from fixtures_staff import bearer
from pack_contents import unzip
from test_demo_systems import get
from test_documents import PDF, send, status_of
from test_portability_flow import path_of

from connectors.demo.people import SHOWCASE
from dsr import suppression
from dsr.status import RequestStatus as S

pytestmark = pytest.mark.sqlite_only

CAMILLE = SHOWCASE["everywhere"]
LEA = "lea.durand@example.org"


@pytest.fixture
def app(engine):
    """The staff fixtures work on the served engine."""
    return engine


def directives_of_camille(engine, run_jobs, directive: str) -> str:
    details = {"mode": "directives", "directive": directive}
    if directive == "hand_over":
        details |= {"trusted_person_name": "Léa Durand", "trusted_person_email": LEA}
    ref = submit_and_confirm(engine, run_jobs, CAMILLE, type_="post_mortem", details=details)
    wait_for_status(engine, ref, S.COMPLETED)  # registered by itself
    return ref


def death_notice(engine, run_jobs, role: str, language: str = "fr") -> str:
    """Léa reports Camille's death from her own confirmed address and sends the certificate."""
    details = {
        "mode": "death_notice",
        "requester_role": role,
        "deceased_name": f"{CAMILLE.first_name} {CAMILLE.last_name}",
        "deceased_email": CAMILLE.email,
        "date_of_death": dt.date.today().isoformat(),  # after the directives, this morning
    }
    ref = submit_and_confirm(
        engine, run_jobs, email=LEA, type_="post_mortem", details=details, language=language
    )
    wait_for_status(engine, ref, S.OPEN)  # waits for a handler
    client = engine.test_client()
    assert send(client, status_of(engine, ref), PDF).status_code == 303
    return ref


def letter_in(archive, name: str) -> str:
    document = docx.Document(io.BytesIO(archive.read(name)))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def released(engine, run_jobs, api, handler, ref: str):
    """Release the answer; the archive Léa downloads from her email's link."""
    assert api.post(f"/api/v1/requests/{ref}/release", headers=handler).status_code == 202
    run_jobs(engine)
    wait_for_status(engine, ref, S.COMPLETED)
    [link] = links_in_outbox(engine, "/download/")
    [answer] = [m for m in outbox_messages(engine) if m["X-DSR-Template"] == "answer_ready"]
    assert answer["To"] == LEA
    return unzip(engine.test_client().get(path_of(link)).get_data())


def test_camilles_directive_to_erase_is_carried_out_after_her_death(
    engine, run_jobs, staff_tokens, crm, sms, billing_db
):
    directives_of_camille(engine, run_jobs, "erase")
    ref = death_notice(engine, run_jobs, "heir")
    handler, api = bearer(staff_tokens["handler"]), engine.test_client()
    waiting = api.post(f"/api/v1/requests/{ref}/start", headers=handler)
    assert waiting.status_code == 409  # nothing runs before the documents are checked
    assert get(f"{crm.base_url}/contacts?email={CAMILLE.email}")[1]["contacts"]

    checked = api.post(f"/api/v1/requests/{ref}/death-notice/decision", headers=handler, json={})
    assert checked.status_code == 200, checked.get_json()
    assert api.post(f"/api/v1/requests/{ref}/start", headers=handler).status_code == 200
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW, seconds=30)

    # the systems found Camille by her email, not Léa: the CRM no longer has her, billing
    # keeps her invoices, restricted; the SMS platform finds people by phone only
    assert get(f"{crm.base_url}/contacts?email={CAMILLE.email}") == (200, {"contacts": []})
    with sqlite3.connect(billing_db) as billing:
        invoices = billing.execute(
            "SELECT COUNT(*), COUNT(i.restricted_at) FROM invoices i JOIN customers c "
            "ON c.id = i.customer_id WHERE c.name = ?",
            (f"{CAMILLE.first_name} {CAMILLE.last_name}",),
        ).fetchone()
        assert invoices[0] > 0 and invoices[0] == invoices[1]
    tasks = {t["connector"]: t["status"] for t in engine_request(engine, api, handler, ref)}
    assert tasks == {"crm": "succeeded", "billing": "succeeded", "sms": "skipped"}
    with engine.app_context():
        assert [r.kind for r in suppression.check(CAMILLE.email)] == ["email"]
        assert not suppression.check(LEA)
    run_jobs(engine)
    [notice] = [m for m in outbox_messages(engine) if m["X-DSR-Template"] == "recipient_notice"]
    body = notice.get_payload(decode=True).decode()
    assert CAMILLE.email in body and LEA not in body  # the recipient is told whose data

    archive = released(engine, run_jobs, api, handler, ref)
    assert sorted(archive.namelist()) == ["README.txt", "manifest.json", "post-mortem-report.docx"]
    letter = letter_in(archive, "post-mortem-report.docx")
    assert "Camille Durand" in letter and "Effacer mes données" in letter
    assert "L123-22" in letter  # the accounting legal hold
    assert "certaines données du défunt" in letter and "vos données" not in letter
    assert "decision.death_notice" in kinds(engine, ref)


def test_camilles_data_are_handed_over_to_the_person_she_designated(
    engine, run_jobs, staff_tokens, crm, sms, billing_db
):
    directives_of_camille(engine, run_jobs, "hand_over")
    ref = death_notice(engine, run_jobs, "designated_person", language="en")
    handler, api = bearer(staff_tokens["handler"]), engine.test_client()
    decided = api.post(f"/api/v1/requests/{ref}/death-notice/decision", headers=handler, json={})
    assert decided.status_code == 200
    assert api.post(f"/api/v1/requests/{ref}/start", headers=handler).status_code == 200
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW, seconds=30)
    archive = released(engine, run_jobs, api, handler, ref)
    assert "post-mortem-report.docx" in archive.namelist()
    data = json.loads(archive.read("data.json"))
    emails = json.dumps(data)
    assert CAMILLE.email in emails and LEA not in emails  # Camille's data, nobody else's
    letter = letter_in(archive, "post-mortem-report.docx")
    assert "Hand my data over to a person I designate" in letter
    assert "the person they designated" in letter
    # the CRM still has her: a hand-over erases nothing
    assert get(f"{crm.base_url}/contacts?email={CAMILLE.email}")[1]["contacts"]


def engine_request(engine, api, handler, ref: str) -> list[dict]:
    read = api.get(f"/api/v1/requests/{ref}", headers=handler)
    assert read.status_code == 200 and read.get_json()["status"] == S.REVIEW
    return read.get_json()["tasks"]


def test_the_case_page_shows_the_directives_and_records_the_check(engine, run_jobs, handler_client):
    directives_of_camille(engine, run_jobs, "keep")
    ref = death_notice(engine, run_jobs, "heir", language="en")
    client = handler_client
    page = client.get(f"/staff/requests/{ref}").get_data(as_text=True)
    assert "Directives in force for the deceased" in page and "Keep my data" in page
    checked = client.post(
        f"/staff/requests/{ref}/death-notice/decision",
        data={"csrf_token": csrf_token(client, f"/staff/requests/{ref}")},
    )
    assert checked.status_code == 303
    page = client.get(f"/staff/requests/{ref}").get_data(as_text=True)
    assert "Documents checked; carried out: Keep my data" in page
