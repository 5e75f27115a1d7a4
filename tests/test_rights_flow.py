"""The rights carried out end to end, against the demo systems as real processes, their
stores checked afterwards: Camille's erasure (the legal hold kept), and her objection to
direct marketing applied at once and answered by itself."""

import io
import sqlite3

import docx
import pytest
from access_steps import submit_and_confirm, wait_for_status
from conftest import links_in_outbox, outbox_messages
from fixtures_staff import bearer
from pack_contents import unzip
from test_demo_systems import crm_rows, get
from test_portability_flow import path_of

from connectors.demo.people import SHOWCASE
from dsr import suppression
from dsr.status import RequestStatus as S

pytestmark = pytest.mark.sqlite_only

CAMILLE = SHOWCASE["everywhere"]
PHONE = "06 39 98 00 01"


def letter_of(engine, ref: str, name: str) -> str:
    [link] = links_in_outbox(engine, "/download/")
    archive = unzip(engine.test_client().get(path_of(link)).get_data())
    assert sorted(archive.namelist()) == sorted([name, "README.txt", "manifest.json"])
    document = docx.Document(io.BytesIO(archive.read(name)))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_camilles_erasure_leaves_only_what_the_law_keeps(
    engine, run_jobs, staff_tokens, crm, sms, billing_db
):
    details = {"ground": "no_longer_necessary"}
    ref = submit_and_confirm(
        engine, run_jobs, CAMILLE, proven=True, type_="erasure", details=details, phone=PHONE
    )
    wait_for_status(engine, ref, S.OPEN)  # an erasure waits for a handler
    handler = bearer(staff_tokens["handler"])
    api = engine.test_client()
    assert api.post(f"/api/v1/requests/{ref}/start", headers=handler).status_code == 200
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW, seconds=30)  # the SMS platform calls back

    assert get(f"{crm.base_url}/contacts?email={CAMILLE.email}") == (200, {"contacts": []})
    with sqlite3.connect(billing_db) as billing:
        customer = billing.execute(
            "SELECT id, email, name, restricted_at FROM customers WHERE name = ?",
            (f"{CAMILLE.first_name} {CAMILLE.last_name}",),
        ).fetchone()
        assert customer is not None and customer[1] != CAMILLE.email and customer[3]
        invoices = billing.execute(
            "SELECT COUNT(*), COUNT(restricted_at) FROM invoices WHERE customer_id = ?",
            (customer[0],),
        ).fetchone()
        assert invoices[0] > 0 and invoices[0] == invoices[1]  # kept, and restricted
        trips = billing.execute("SELECT COUNT(*) FROM trips WHERE customer_id = ?", (customer[0],))
        assert trips.fetchone()[0] == 0
    [subscription] = get(f"{sms.base_url}/subscriptions?phone=%2B33639980001")[1]["subscriptions"]
    assert subscription["promotions"] == "opted_out"

    with engine.app_context():
        assert {r.kind for r in suppression.check(CAMILLE.email, [PHONE])} == {"email", "phone"}
    run_jobs(engine)
    notices = [m for m in outbox_messages(engine) if m["X-DSR-Template"] == "recipient_notice"]
    assert [m["To"] for m in notices] == ["dpo@facturation-demo.example"]

    assert api.post(f"/api/v1/requests/{ref}/release", headers=handler).status_code == 202
    run_jobs(engine)
    wait_for_status(engine, ref, S.COMPLETED)
    letter = letter_of(engine, ref, "erasure-report.docx")
    assert "L123-22" in letter  # the accounting legal hold, in Camille's French letter


def test_camilles_objection_to_marketing_stops_it_and_answers_by_itself(engine, run_jobs, crm, sms):
    ref = submit_and_confirm(
        engine,
        run_jobs,
        CAMILLE,
        proven=True,
        type_="objection",
        details={"basis": "direct_marketing"},
        phone=PHONE,
    )
    run_jobs(engine)  # started by itself: the CRM at once, the SMS platform by callback
    wait_for_status(engine, ref, S.REVIEW, seconds=30)
    run_jobs(engine)  # the release the system asked for
    wait_for_status(engine, ref, S.COMPLETED)
    [subscription] = get(f"{sms.base_url}/subscriptions?phone=%2B33639980001")[1]["subscriptions"]
    assert subscription["promotions"] == "opted_out"
    [contact] = get(f"{crm.base_url}/contacts?email={CAMILLE.email}")[1]["contacts"]
    consents = crm_rows(crm, contact["id"], "consents")
    newsletter = [c for c in consents if c["purpose"] == "email_newsletter"]
    assert newsletter[-1]["status"] == "withdrawn"  # a consent activity: consent ends
    letter = letter_of(engine, ref, "objection-report.docx")
    assert ref in letter
