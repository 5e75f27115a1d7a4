"""Portability end to end against the demo systems as real processes: Camille's data that
she provided, released, downloaded, and sent to the organisation she named."""

import json

import pytest
from access_steps import submit_and_confirm, wait_for_status
from conftest import links_in_outbox, outbox_messages
from fixtures_staff import bearer
from pack_contents import checked_files, unzip
from test_release_flow import stored_results

from connectors.demo.people import SHOWCASE
from dsr.config import DEMO_CONFIG, load_instance
from dsr.status import RequestStatus as S
from workflows.processing_register import portable_scope

pytestmark = pytest.mark.sqlite_only

CAMILLE = SHOWCASE["everywhere"]
RECIPIENT = {"recipient_name": "Nouvelle Mobilité SA", "recipient_email": "dpo@nouvelle.example"}


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def portable(stored: dict) -> dict:
    """What the systems returned, cut to the register's portable tables and columns."""
    scope = portable_scope(load_instance(str(DEMO_CONFIG))["register"])
    out = {}
    for connector, tables in stored.items():
        for table, records in tables.items():
            if (connector, table) not in scope:
                continue
            columns = scope[(connector, table)]
            out.setdefault(connector, {})[table] = [
                record if columns is None else {k: v for k, v in record.items() if k in columns}
                for record in records
            ]
    return out


@pytest.mark.parametrize("details", [{}, RECIPIENT], ids=["kept", "sent on"])
def test_camille_receives_what_she_provided_and_may_have_it_sent(
    engine, run_jobs, staff_tokens, details
):
    ref = submit_and_confirm(
        engine,
        run_jobs,
        CAMILLE,
        proven=True,
        type_="portability",
        details=details,
        phone="06 39 98 00 01",
    )
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    handler = bearer(staff_tokens["handler"])
    api = engine.test_client()
    assert api.post(f"/api/v1/requests/{ref}/release", headers=handler).status_code == 202
    run_jobs(engine)
    wait_for_status(engine, ref, S.COMPLETED)
    [link] = links_in_outbox(engine, "/download/")
    pack = api.get(path_of(link)).get_data()
    files = checked_files(unzip(pack))
    assert "access-report.docx" not in files
    data = json.loads(files["data.json"])["systems"]
    expected = portable(stored_results(engine, ref))
    assert {c: s["tables"] for c, s in data.items()} == expected
    assert set(expected) == {"crm", "billing", "sms"}
    assert set(expected["crm"]["contacts"][0]) <= {
        "first_name",
        "last_name",
        "email",
        "phone",
        "postal_address",
    }
    assert "invoices" not in expected["billing"] and "messages" not in expected.get("sms", {})

    transmit = api.post(f"/api/v1/requests/{ref}/transmit", headers=handler)
    if not details:
        assert transmit.status_code == 409
        return
    assert transmit.status_code == 202
    run_jobs(engine)
    [sent] = [m for m in outbox_messages(engine) if m["X-DSR-Template"] == "transfer_link"]
    assert sent["To"] == "dpo@nouvelle.example"
    [pull] = links_in_outbox(engine, "/transfer/")
    assert api.post(path_of(pull)).get_data() == pack
    told = [m for m in outbox_messages(engine) if m["X-DSR-Template"] == "transfer_sent"]
    assert [m["To"] for m in told] == [CAMILLE.email]
