"""The demo systems as real processes, and the http, webhook kinds speaking to them."""

import io
import json
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fixtures_demo import DEMO_SECRETS, ROOT, start_demo

from connectors import registry, signature
from connectors.answer import read_answer
from connectors.base import PENDING, ConnectorError, TaskOrder
from connectors.demo import people
from connectors.demo.people import NOBODY, SHOWCASE
from connectors.matching import Subject, normalise_phone

CAMILLE, HUGO = SHOWCASE["everywhere"], SHOWCASE["crm_only"]
INES, LEO = SHOWCASE["billing_only"], SHOWCASE["sms_only"]
CRM_TABLES = {"contacts", "accounts", "consents", "tickets", "login_events"}


class ListSink:
    """Records by table, as a connector writes them."""

    def __init__(self):
        self.tables = defaultdict(list)

    def write(self, table, record):
        self.tables[table].append(dict(record))


def order(action="access", email="", callback_url="", details=None, **identifiers) -> TaskOrder:
    subject = Subject.from_request(email, identifiers=identifiers)
    return TaskOrder("task-1", "DSR-2026-000001", action, subject, details or {}, callback_url)


def fetch(request) -> tuple[int, dict]:
    """(status, parsed JSON answer), whatever the status."""
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc)


def get(url: str) -> tuple[int, dict]:
    return fetch(url)


def signed_post(url: str, payload, secret: str) -> tuple[int, dict]:
    body = json.dumps(payload).encode()
    headers = {signature.HEADER: signature.sign(secret, body)}
    return fetch(urllib.request.Request(url, data=body, headers=headers))


@pytest.fixture
def connectors(demo_connectors):
    """The demo instance's connectors, built by the registry as the engine builds them."""
    built = registry.build_all(demo_connectors, environ=DEMO_SECRETS)
    yield built
    for connector in built.values():
        connector.close()


def crm_with(crm, **settings):
    """The CRM connector with some settings changed (timeout, secret...)."""
    base = {"kind": "http", "url": crm.dsr_url, "secret_env": "DSR_CRM_SECRET"}
    environ = {**DEMO_SECRETS, **settings.pop("environ", {})}
    return registry.build("crm", {**base, **settings}, environ)


# --- people ---------------------------------------------------------------------


def test_people_are_fictitious_unique_and_the_same_every_time():
    everyone = people.PEOPLE
    assert len(everyone) == people.COUNT + len(SHOWCASE)
    assert everyone[: len(SHOWCASE)] == tuple(SHOWCASE.values())
    assert everyone == people._generate()
    for field in ("email", "phone", "customer_number"):
        values = [getattr(p, field) for p in everyone]
        assert len(set(values)) == len(values), f"duplicate {field}"
    assert all(re.fullmatch(r"\+3363998\d{4}", p.phone) for p in everyone)
    assert all(p.email.split("@")[1] in people.DOMAINS for p in everyone)
    assert all(re.fullmatch(r"MD-\d{6}", p.customer_number) for p in everyone)
    assert NOBODY not in {p.email for p in everyone}


def test_people_are_spread_over_the_systems():
    generated = people.PEOPLE[len(SHOWCASE) :]
    combinations = Counter(frozenset(p.systems) for p in generated)
    assert 0.5 < combinations[frozenset(people.SYSTEMS)] / len(generated) < 0.7
    assert len(combinations) == 7  # every non-empty combination occurs
    assert [p.systems for p in (CAMILLE, HUGO, INES, LEO)] == [
        frozenset(people.SYSTEMS),
        {"crm"},
        {"billing"},
        {"sms"},
    ]


# --- billing --------------------------------------------------------------------


def customers(path) -> dict[str, tuple]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT customer_number, email, phone, id FROM customers").fetchall()
    return {row[0]: row[1:] for row in rows}


def test_billing_holds_the_showcase_people_with_phones_in_varied_formats(billing_db):
    found = customers(billing_db)
    assert found[CAMILLE.customer_number][:2] == (CAMILLE.email, "06 39 98 00 01")
    assert found[INES.customer_number][:2] == (INES.email, "0033 6 39 98 00 03")
    assert HUGO.customer_number not in found and LEO.customer_number not in found
    by_number = {p.customer_number: p for p in people.PEOPLE}
    for number, (_, phone, _) in found.items():
        assert normalise_phone(phone) == by_number[number].phone
    shapes = {re.sub(r"\d", "9", phone) for _, phone, _ in found.values()}
    assert len(shapes) >= 6
    assert any(email != email.lower() for email, _, _ in found.values())


def test_billing_gives_camille_trips_invoices_and_payments(billing_db):
    camille_id = customers(billing_db)[CAMILLE.customer_number][2]
    with sqlite3.connect(billing_db) as db:
        counts = db.execute(
            "SELECT (SELECT count(*) FROM trips WHERE customer_id = :c),"
            " (SELECT count(*) FROM payment_methods WHERE customer_id = :c),"
            " (SELECT count(*) FROM invoices WHERE customer_id = :c),"
            " (SELECT count(*) FROM payments JOIN invoices ON invoices.id = invoice_id"
            "  WHERE customer_id = :c)",
            {"c": camille_id},
        ).fetchone()
        orphans = db.execute(
            "SELECT count(*) FROM payments WHERE invoice_id NOT IN (SELECT id FROM invoices)"
        ).fetchone()[0]
    trips, methods, invoices, payments = counts
    assert trips >= 3 and methods >= 1 and invoices >= 2 and payments >= invoices
    assert orphans == 0


def test_billing_command_recreates_the_same_file(tmp_path):
    path = tmp_path / "demo" / "billing.sqlite3"
    command = [sys.executable, "-m", "connectors.demo.billing", "--db", str(path)]
    dumps = []
    for _ in range(2):
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        assert re.match(r"billing: \d+ customers, \d+ trips, .* in ", done.stdout)
        with sqlite3.connect(path) as db:
            dumps.append(list(db.iterdump()))
    assert dumps[0] == dumps[1]
    assert [p.name for p in path.parent.iterdir()] == ["billing.sqlite3"]


def test_billing_command_says_when_it_cannot_write(tmp_path):
    (tmp_path / "a-file").write_text("")
    command = [sys.executable, "-m", "connectors.demo.billing"]
    done = subprocess.run(
        [*command, "--db", str(tmp_path / "a-file" / "billing.sqlite3")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "cannot write" in done.stderr and "Traceback" not in done.stderr


# --- the CRM's own API and its DSR endpoint --------------------------------------


def test_crm_rest_api_finds_contacts_by_normalised_identifiers(crm):
    health = {"status": "ok", "contacts": len(people.known_to("crm"))}
    assert get(crm.base_url + "/health") == (200, health)
    status, found = get(crm.base_url + "/contacts?email=Camille.DURAND@example.org")
    assert status == 200 and [c["customer_number"] for c in found["contacts"]] == ["MD-000001"]
    contact = found["contacts"][0]
    assert get(crm.base_url + "/contacts?phone=0639980001")[1] == found
    assert get(crm.base_url + "/contacts?customer_number=md-000001")[1] == found
    assert get(crm.base_url + "/contacts?email=" + NOBODY) == (200, {"contacts": []})
    assert get(f"{crm.base_url}/contacts/{contact['id']}") == (200, contact)
    status, tickets = get(f"{crm.base_url}/contacts/{contact['id']}/tickets")
    assert status == 200 and tickets["tickets"]
    assert all(t["contact_id"] == contact["id"] for t in tickets["tickets"])


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/contacts", 400, "give email, phone or customer_number"),
        ("/contacts/99999", 404, "no contact 99999"),
        ("/contacts/1/passwords", 404, "no table 'passwords'"),
        ("/nothing", 404, "no such endpoint: GET /nothing"),
    ],
)
def test_crm_rest_api_errors_are_json(crm, path, status, message):
    answered, answer = get(crm.base_url + path)
    assert answered == status and answer["error"].startswith(message)


def test_crm_refuses_a_wrong_or_missing_signature(crm):
    notice = order(email=CAMILLE.email).notice()
    status, answer = signed_post(crm.dsr_url, notice, "not-the-secret")
    assert status == 401
    assert answer == {"error": "signature refused: the signature does not match the body"}
    request = urllib.request.Request(crm.dsr_url, data=json.dumps(notice).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    with refused.value as response:
        assert response.code == 401 and "header is missing" in json.load(response)["error"]
    connector = crm_with(crm, secret_env="WRONG", environ={"WRONG": "not-the-secret"})
    with pytest.raises(ConnectorError, match=r"^crm answered HTTP 401: .*signature refused"):
        connector.run(order(email=CAMILLE.email), ListSink())


def test_crm_serves_no_test_endpoints_without_faults(tmp_path):
    system = start_demo("crm", tmp_path, faults=False)
    try:
        for path in ("/_faults", "/_reset"):
            with pytest.raises(urllib.error.HTTPError) as missing:
                system.post(path, {"mode": "error"})
            with missing.value as response:
                assert response.code == 404
    finally:
        system.stop()


def test_a_demo_system_says_what_is_missing_instead_of_starting(crm):
    base = [sys.executable, "-m", "connectors.demo.crm"]
    unset = subprocess.run(
        [*base, "--port", "0", "--secret-env", "DSR_TEST_NOT_SET"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=30,
    )
    assert unset.returncode == 2
    assert "environment variable DSR_TEST_NOT_SET is not set" in unset.stderr
    port = crm.base_url.rsplit(":", 1)[1]
    taken = subprocess.run(
        [*base, "--port", port],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **DEMO_SECRETS},
        timeout=30,
    )
    assert taken.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in taken.stderr
    assert "Traceback" not in unset.stderr + taken.stderr


# --- the http kind against the CRM ------------------------------------------------


@pytest.mark.parametrize(
    "identifiers",
    [
        {"email": "Camille.Durand@example.org"},
        {"email": NOBODY, "phone": "06 39 98 00 01"},
        {"email": NOBODY, "customer_number": "md-000001"},
    ],
    ids=["email", "phone", "customer_number"],
)
def test_http_access_returns_camille_records_per_table(connectors, identifiers):
    sink = ListSink()
    result = connectors["crm"].run(order(**identifiers), sink)
    assert set(sink.tables) == CRM_TABLES
    assert [c["email"] for c in sink.tables["contacts"]] == [CAMILLE.email]
    assert sink.tables["tickets"] and sink.tables["login_events"]
    assert result.outcome.startswith("found 1 contact, 1 account, ")


def test_http_access_finds_the_crm_only_person_and_not_the_others(connectors):
    sink = ListSink()
    connectors["crm"].run(order(email=HUGO.email), sink)
    assert [c["last_name"] for c in sink.tables["contacts"]] == ["Lefèvre"]
    for email in (INES.email, LEO.email, NOBODY):
        empty = ListSink()
        assert connectors["crm"].run(order(email=email), empty).outcome == "no data"
        assert not empty.tables


def test_http_erase_deletes_the_person_from_the_crm(connectors):
    crm = connectors["crm"]
    result = crm.run(order("erase", email=CAMILLE.email), ListSink())
    assert result.outcome.startswith("deleted 1 contact, 1 account, ")
    assert crm.run(order(email=CAMILLE.email), ListSink()).outcome == "no data"
    assert crm.run(order(email=HUGO.email), ListSink()).outcome.startswith("found 1 contact")


def test_an_action_the_crm_does_not_know_is_a_failed_answer(crm):
    notice = order("export", email=CAMILLE.email).notice()
    assert signed_post(crm.dsr_url, notice, DEMO_SECRETS["DSR_CRM_SECRET"]) == (
        200,
        {"status": "failed", "error": "action 'export' is not supported by the CRM"},
    )


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error", r"^crm answered HTTP 500: .*injected fault: the CRM is out of order"),
        ("malformed", r"^crm sent a malformed answer: the answer is not valid JSON"),
        ("slow", r"^crm did not answer within 0.5 s$"),
    ],
)
def test_crm_faults_fail_the_attempt_and_the_next_one_succeeds(crm, mode, message):
    connector = crm_with(crm, timeout=0.5)
    crm.faults(mode, times=1, seconds=2)
    with pytest.raises(ConnectorError, match=message):
        connector.run(order(email=CAMILLE.email), ListSink())
    retried = connector.run(order(email=CAMILLE.email), ListSink())
    assert retried.outcome.startswith("found 1 contact")


# --- the webhook kind against the SMS platform -----------------------------------


class Recorder:
    """A tiny engine stand-in on loopback that records the callbacks it receives."""

    def __init__(self):
        self.received: list[tuple[str | None, bytes]] = []
        self.statuses: list[int] = []  # answers to give, in order; 200 when empty
        self.changed = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with recorder.changed:
                    recorder.received.append((self.headers.get(signature.HEADER), body))
                    status = recorder.statuses.pop(0) if recorder.statuses else 200
                    recorder.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/callbacks/task-1"

    def wait(self, count: int = 1, timeout: float = 10) -> list[tuple[str | None, bytes]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.received) >= count, timeout), (
                f"{len(self.received)} callbacks received, expected {count}"
            )
            return list(self.received)


@pytest.fixture
def callbacks():
    recorder = Recorder()
    thread = threading.Thread(target=recorder.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield recorder
    recorder.server.shutdown()
    recorder.server.server_close()
    thread.join()


def callback_answer(header, body, sink):
    """Check a recorded callback as the engine does; its answer."""
    signature.verify(DEMO_SECRETS["DSR_SMS_SECRET"], header, body)
    return read_answer(io.BytesIO(body), sink)


def test_webhook_is_accepted_then_the_platform_calls_back_with_records(connectors, callbacks):
    task = order(email=CAMILLE.email, phone=CAMILLE.phone, callback_url=callbacks.url)
    assert connectors["sms"].run(task, ListSink()) is PENDING
    [(header, body)] = callbacks.wait()
    sink = ListSink()
    answer = callback_answer(header, body, sink)
    assert answer.status == "succeeded" and answer.outcome.startswith("found 1 contact, ")
    assert set(sink.tables) == {"contacts", "messages", "subscriptions"}
    assert {m["phone"] for m in sink.tables["messages"]} == {CAMILLE.phone}
    assert {m["kind"] for m in sink.tables["messages"]} == {"service", "promotion"}


def test_webhook_object_opts_the_number_out_of_promotions(connectors, callbacks):
    sms = connectors["sms"]
    objection = {"activities": ["sms_promotions"], "direct_marketing": True}
    sms.run(
        order("object", LEO.email, callbacks.url, objection, phone="06 39 98 00 04"),
        ListSink(),
    )
    [(header, body)] = callbacks.wait()
    answer = callback_answer(header, body, ListSink())
    assert re.fullmatch(r"\+33639980004 opted out of promotions on \S+Z", answer.outcome)
    sms.run(order(email=LEO.email, phone=LEO.phone, callback_url=callbacks.url), ListSink())
    sink = ListSink()
    callback_answer(*callbacks.wait(2)[1], sink)
    [subscription] = sink.tables["subscriptions"]
    assert subscription["promotions"] == "opted_out"
    assert subscription["opt_out_source"] == "objection (DSR-2026-000001)"


def test_webhook_for_people_the_platform_cannot_find(connectors, callbacks):
    sms = connectors["sms"]
    sms.run(order("erase", email=CAMILLE.email, callback_url=callbacks.url), ListSink())
    sms.run(
        order("erase", email=NOBODY, phone="+33 6 39 98 99 99", callback_url=callbacks.url),
        ListSink(),
    )
    outcomes = {callback_answer(h, b, ListSink()).outcome for h, b in callbacks.wait(2)}
    assert outcomes == {"no data: no phone number given", "no data"}


def test_sms_platform_retries_a_callback_the_engine_could_not_take(sms, callbacks):
    callbacks.statuses = [503]
    connector = registry.build(
        "sms",
        {"kind": "webhook", "url": sms.dsr_url, "secret_env": "DSR_SMS_SECRET"},
        DEMO_SECRETS,
    )
    connector.run(order(phone=CAMILLE.phone, callback_url=callbacks.url), ListSink())
    first, second = callbacks.wait(2)
    assert first[1] == second[1]
    assert callback_answer(*second, ListSink()).status == "succeeded"


def test_bad_signature_fault_makes_the_callback_fail_verification(connectors, sms, callbacks):
    sms.faults("bad_signature", times=1)
    connectors["sms"].run(order(phone=CAMILLE.phone, callback_url=callbacks.url), ListSink())
    [(header, body)] = callbacks.wait()
    with pytest.raises(signature.SignatureError, match="does not match the body"):
        signature.verify(DEMO_SECRETS["DSR_SMS_SECRET"], header, body)


def test_sms_platform_refuses_bad_notices(sms, callbacks):
    connector = registry.build(
        "sms",
        {"kind": "webhook", "url": sms.dsr_url, "secret_env": "WRONG"},
        {"WRONG": "not-the-secret"},
    )
    with pytest.raises(ConnectorError, match=r"^sms answered HTTP 401: .*signature refused"):
        connector.run(order(phone=CAMILLE.phone, callback_url=callbacks.url), ListSink())
    secret = DEMO_SECRETS["DSR_SMS_SECRET"]
    notice = order("export", phone=CAMILLE.phone, callback_url=callbacks.url).notice()
    assert signed_post(sms.dsr_url, notice, secret) == (
        422,
        {
            "error": "action 'export' is not supported by the SMS platform (it does access, "
            "erase, rectify, restrict, lift_restriction, object, withdraw_consent)"
        },
    )
    notice = {**notice, "action": "access", "callback_url": ""}
    status, answer = signed_post(sms.dsr_url, notice, secret)
    assert status == 400 and answer["error"].startswith("callback_url must be an http(s) URL")
    time.sleep(0.5)
    assert callbacks.received == []


# --- the sql kind against the billing file ----------------------------------------


def test_sql_finds_billing_customers_whatever_the_phone_format(connectors):
    billing = connectors["billing"]
    for person in (CAMILLE, INES):  # stored as "06 39 98 00 01", "0033 6 39 98 00 03"
        sink = ListSink()
        billing.run(order(email=NOBODY, phone=person.phone), sink)
        assert [c["customer_number"] for c in sink.tables["customers"]] == [person.customer_number]
        assert sink.tables["invoices"] and sink.tables["payments"]
    assert billing.run(order(email=HUGO.email, phone=HUGO.phone), ListSink()).outcome == "no data"


def test_sql_erase_keeps_what_the_accounting_hold_needs(connectors, billing_db):
    camille_id = customers(billing_db)[CAMILLE.customer_number][2]
    connectors["billing"].run(order("erase", email=CAMILLE.email), ListSink())
    with sqlite3.connect(billing_db) as db:
        row = db.execute(
            "SELECT name, billing_address, email, phone FROM customers WHERE id = ?", (camille_id,)
        ).fetchone()
        left = [
            db.execute(
                f"SELECT count(*) FROM {table} WHERE customer_id = ?", (camille_id,)
            ).fetchone()[0]
            for table in ("trips", "payment_methods", "invoices")
        ]
    assert row == (CAMILLE.name, CAMILLE.address, None, None)
    assert left[:2] == [0, 0] and left[2] >= 2


# --- every action in the stores (issue 9's protocol) -------------------------------

#: what the engine sends billing for an erasure: the register's accounting legal hold
BILLING_HOLD = ["customers.name", "customers.billing_address", "invoices", "payments"]
TODAY = time.strftime("%Y-%m-%d", time.gmtime())


def crm_contacts(crm, email=CAMILLE.email) -> list[dict]:
    status, found = get(f"{crm.base_url}/contacts?email={email}")
    assert status == 200
    return found["contacts"]


def crm_rows(crm, contact_id: int, table: str) -> list[dict]:
    status, found = get(f"{crm.base_url}/contacts/{contact_id}/{table}")
    assert status == 200
    return found[table]


def crm_run(connectors, action, details=None, email=CAMILLE.email) -> str:
    """Run one CRM task; its outcome."""
    return connectors["crm"].run(order(action, email, "", details), ListSink()).outcome


def sms_run(connectors, callbacks, action, details=None, phone=CAMILLE.phone):
    """Run one SMS task and wait for its callback; the answer."""
    count = len(callbacks.received)
    task = order(action, NOBODY, callbacks.url, details, phone=phone)
    assert connectors["sms"].run(task, ListSink()) is PENDING
    return callback_answer(*callbacks.wait(count + 1)[count], ListSink())


def sms_number(sms, phone=CAMILLE.phone) -> dict:
    status, found = get(f"{sms.base_url}/numbers?phone={urllib.parse.quote(phone)}")
    assert status == 200
    return found


def test_crm_erase_removes_her_and_a_second_erasure_finds_nothing(connectors, crm):
    outcome = crm_run(connectors, "erase", {"keep": []})
    assert re.fullmatch(
        r"deleted 1 contact, 1 account, 1 consent, 3 tickets, \d+ login_events", outcome
    )
    assert crm_contacts(crm) == []
    assert get(f"{crm.base_url}/contacts/1")[0] == 404
    assert crm_run(connectors, "erase", {"keep": []}) == "no data"
    assert crm_contacts(crm, HUGO.email)  # nobody else


def test_crm_erase_keeps_the_held_fields_marked_restricted(connectors, crm):
    [camille] = crm_contacts(crm)
    keep = {"keep": ["contacts.first_name", "consents"]}
    outcome = crm_run(connectors, "erase", keep)
    assert outcome.endswith("; kept 1 contact, 1 consent (legal hold, restricted)")
    assert outcome.startswith("deleted 1 account, 3 tickets, ")
    status, contact = get(f"{crm.base_url}/contacts/{camille['id']}")
    assert status == 200 and contact["first_name"] == "Camille"
    assert contact["email"] is contact["phone"] is contact["postal_address"] is None
    assert contact["restricted_at"].startswith(TODAY)
    [consent] = crm_rows(crm, camille["id"], "consents")
    assert consent["status"] == "granted" and consent["restricted_at"].startswith(TODAY)
    assert crm_rows(crm, camille["id"], "tickets") == []
    assert crm_contacts(crm) == []  # her email is gone


def test_crm_rectify_changes_her_field_and_twice_is_the_same(connectors, crm):
    change = {"field": "contacts.postal_address", "old": CAMILLE.address, "new": "3 rue Neuve"}
    for _ in range(2):
        outcome = crm_run(connectors, "rectify", {"changes": [change]})
        assert outcome == "changed contacts.postal_address on 1 contact"
    assert crm_contacts(crm)[0]["postal_address"] == "3 rue Neuve"
    assert crm_contacts(crm, HUGO.email)[0]["postal_address"] == HUGO.address


@pytest.mark.parametrize(
    ("field", "error"),
    [
        ("contacts.nickname", "the CRM has no field 'contacts.nickname'"),
        ("invoices.total", "the CRM has no field 'invoices.total'"),
        ("consents.contact_id", "the CRM has no field 'consents.contact_id'"),
    ],
)
def test_crm_rectify_of_a_field_it_lacks_fails_and_changes_nothing(connectors, crm, field, error):
    changes = [{"field": "contacts.first_name", "new": "Camila"}, {"field": field, "new": "x"}]
    with pytest.raises(ConnectorError) as failed:
        crm_run(connectors, "rectify", {"changes": changes})
    assert str(failed.value) == f"crm failed: {error}"
    assert crm_contacts(crm)[0]["first_name"] == "Camille"


def test_crm_restrict_then_lift_marks_her_contact(connectors, crm):
    assert crm_contacts(crm)[0]["restricted_at"] is None
    assert crm_run(connectors, "restrict") == "restricted 1 contact"
    marked = crm_contacts(crm)[0]["restricted_at"]
    assert marked.startswith(TODAY)
    assert crm_run(connectors, "restrict") == "1 contact already restricted"
    assert crm_contacts(crm)[0]["restricted_at"] == marked
    assert crm_run(connectors, "lift_restriction") == "lifted the restriction of 1 contact"
    assert crm_contacts(crm)[0]["restricted_at"] is None
    assert crm_run(connectors, "lift_restriction") == "1 contact not restricted"


def test_crm_withdraw_consent_logs_a_withdrawn_row_once(connectors, crm):
    [camille] = crm_contacts(crm)
    details = {"activities": ["email_newsletter"]}
    outcome = crm_run(connectors, "withdraw_consent", details)
    assert re.fullmatch(rf"withdrew consent to email_newsletter on {TODAY}T\S+Z", outcome)
    granted, withdrawn = crm_rows(crm, camille["id"], "consents")
    assert granted["status"] == "granted"
    assert withdrawn["status"] == "withdrawn" and withdrawn["recorded_at"].startswith(TODAY)
    assert withdrawn["source"] == "consent withdrawn (DSR-2026-000001)"
    again = crm_run(connectors, "withdraw_consent", details)
    assert again.startswith("no consent in force for email_newsletter (withdrawn on ")
    assert len(crm_rows(crm, camille["id"], "consents")) == 2


def test_crm_object_stops_the_newsletter_and_records_the_objection(connectors, crm):
    [hugo] = crm_contacts(crm, HUGO.email)
    details = {"activities": ["email_newsletter", "customer_support"], "direct_marketing": True}
    outcome = crm_run(connectors, "object", details, email=HUGO.email)
    assert outcome.startswith("withdrew consent to email_newsletter on ")
    assert "; recorded the objection to customer_support on " in outcome
    log = {row["purpose"]: row for row in crm_rows(crm, hugo["id"], "consents")}
    assert log["email_newsletter"]["status"] == "withdrawn"
    assert log["customer_support"]["status"] == "objected"
    assert log["customer_support"]["source"] == "objection (DSR-2026-000001)"
    again = crm_run(connectors, "object", details, email=HUGO.email)
    assert "objection already recorded to customer_support (objected on " in again
    assert len(crm_rows(crm, hugo["id"], "consents")) == 3


@pytest.mark.parametrize(
    ("action", "details", "error"),
    [
        ("object", {"activities": ["sms_promotions"]}, "the CRM runs no activity 'sms_promotions'"),
        (
            "withdraw_consent",
            {"activities": ["customer_support"]},
            "the CRM does not run 'customer_support' on consent",
        ),
        ("withdraw_consent", {}, "details.activities must name at least one activity id"),
        ("erase", {"keep": ["payments"]}, "cannot keep payments: the CRM has no such field"),
    ],
)
def test_crm_refuses_what_it_cannot_do_and_changes_nothing(connectors, crm, action, details, error):
    with pytest.raises(ConnectorError) as failed:
        crm_run(connectors, action, details)
    assert str(failed.value) == f"crm failed: {error}"
    [camille] = crm_contacts(crm)
    assert [c["status"] for c in crm_rows(crm, camille["id"], "consents")] == ["granted"]


ANY_ACTION = [
    ("erase", {"keep": ["consents"]}),
    ("rectify", {"changes": [{"field": "contacts.first_name", "new": "X"}]}),
    ("restrict", {}),
    ("lift_restriction", {}),
    ("object", {"activities": ["email_newsletter"], "direct_marketing": True}),
    ("withdraw_consent", {"activities": ["email_newsletter"]}),
]


@pytest.mark.parametrize(("action", "details"), ANY_ACTION)
def test_crm_every_action_for_someone_it_does_not_know_is_no_data(connectors, crm, action, details):
    assert crm_run(connectors, action, details, email=INES.email) == "no data"
    assert len(crm_contacts(crm)) == 1 and get(crm.base_url + "/health")[1]["contacts"] == len(
        people.known_to("crm")
    )


def test_sms_erase_leaves_only_the_number_on_the_opt_out_list(connectors, sms, callbacks):
    answer = sms_run(connectors, callbacks, "erase", {"keep": []})
    assert answer.status == "succeeded"
    assert re.fullmatch(
        r"deleted 1 contact, \d+ messages; \+33639980001 put on the promotions opt-out list",
        answer.outcome,
    )
    [subscription] = sms_number(sms)["subscriptions"]
    assert sms_number(sms) == {"contacts": [], "messages": [], "subscriptions": [subscription]}
    assert subscription["promotions"] == "opted_out" and subscription["opted_in_at"] is None
    assert subscription["opt_out_source"] == "erasure (DSR-2026-000001)"
    again = sms_run(connectors, callbacks, "erase", {"keep": []})
    assert again.outcome == "+33639980001 stays on the promotions opt-out list"
    assert sms_number(sms) == {"contacts": [], "messages": [], "subscriptions": [subscription]}


def test_sms_erase_keeps_the_held_table_marked_restricted(connectors, sms, callbacks):
    messages = sms_number(sms)["messages"]
    answer = sms_run(connectors, callbacks, "erase", {"keep": ["messages"]})
    assert answer.outcome.startswith(
        f"deleted 1 contact; kept {len(messages)} messages (legal hold, restricted); "
    )
    kept = sms_number(sms)["messages"]
    assert [m["body"] for m in kept] == [m["body"] for m in messages]
    assert all(m["restricted_at"].startswith(TODAY) for m in kept)


def test_sms_rectify_changes_the_first_name_it_holds(connectors, sms, callbacks):
    details = {"changes": [{"field": "contacts.first_name", "old": "Camille", "new": "Camila"}]}
    for _ in range(2):
        answer = sms_run(connectors, callbacks, "rectify", details)
        assert answer.outcome == "changed contacts.first_name on 1 contact"
    assert sms_number(sms)["contacts"][0]["first_name"] == "Camila"


@pytest.mark.parametrize("field", ["contacts.postal_address", "contacts.phone"])
def test_sms_rectify_of_a_field_it_cannot_change_fails_naming_it(connectors, sms, callbacks, field):
    answer = sms_run(connectors, callbacks, "rectify", {"changes": [{"field": field, "new": "x"}]})
    assert answer.status == "failed"
    assert answer.error == (
        f"the SMS platform has no field {field!r} it can rectify (it can: contacts.first_name)"
    )
    assert sms_number(sms)["contacts"][0]["first_name"] == "Camille"


def test_sms_restrict_then_lift_marks_the_number(connectors, sms, callbacks):
    assert sms_run(connectors, callbacks, "restrict").outcome == "restricted 1 contact"
    marked = sms_number(sms)["contacts"][0]["restricted_at"]
    assert marked.startswith(TODAY)
    assert sms_run(connectors, callbacks, "restrict").outcome == "1 contact already restricted"
    assert sms_number(sms)["contacts"][0]["restricted_at"] == marked
    lifted = sms_run(connectors, callbacks, "lift_restriction").outcome
    assert lifted == "lifted the restriction of 1 contact"
    assert sms_number(sms)["contacts"][0]["restricted_at"] is None


def test_sms_withdraw_consent_opts_the_number_out_once(connectors, sms, callbacks):
    details = {"activities": ["sms_promotions"]}
    first = sms_run(connectors, callbacks, "withdraw_consent", details).outcome
    assert re.fullmatch(rf"\+33639980001 opted out of promotions on {TODAY}T\S+Z", first)
    status, listed = get(f"{sms.base_url}/subscriptions?phone=06%2039%2098%2000%2001")
    assert status == 200
    [subscription] = listed["subscriptions"]
    assert subscription["promotions"] == "opted_out"
    assert subscription["opt_out_source"] == "consent withdrawn (DSR-2026-000001)"
    again = sms_run(connectors, callbacks, "withdraw_consent", details).outcome
    assert again == f"+33639980001 already opted out on {subscription['opted_out_at']}"
    everyone = get(f"{sms.base_url}/subscriptions")[1]["subscriptions"]
    assert len(everyone) == len(people.known_to("sms"))


@pytest.mark.parametrize(
    ("details", "error"),
    [
        ({"activities": ["service_sms"]}, "service_sms (messages about rides) is part of the"),
        ({"activities": ["email_newsletter"]}, "the SMS platform runs no activity 'email_newsl"),
        ({"activities": "sms_promotions"}, "details.activities must be a list"),
    ],
)
def test_sms_objection_to_what_it_cannot_stop_fails(connectors, sms, callbacks, details, error):
    answer = sms_run(connectors, callbacks, "object", details)
    assert answer.status == "failed" and answer.error.startswith(error)
    assert sms_number(sms)["subscriptions"][0]["promotions"] == "opted_in"


@pytest.mark.parametrize(
    ("action", "details"),
    [
        ("erase", {"keep": ["messages"]}),
        ("rectify", {"changes": [{"field": "contacts.first_name", "new": "X"}]}),
        ("restrict", {}),
        ("lift_restriction", {}),
        ("object", {"activities": ["sms_promotions"], "direct_marketing": True}),
        ("withdraw_consent", {"activities": ["sms_promotions"]}),
    ],
)
def test_sms_every_action_for_a_number_it_does_not_know_is_no_data(
    connectors, sms, callbacks, action, details
):
    answer = sms_run(connectors, callbacks, action, details, phone="+33 6 39 98 99 99")
    assert answer.status == "succeeded" and answer.outcome == "no data"
    assert get(sms.base_url + "/health")[1]["numbers"] == len(people.known_to("sms"))
    assert len(get(sms.base_url + "/subscriptions")[1]["subscriptions"]) == len(
        people.known_to("sms")
    )


def test_sms_store_endpoints_want_a_number(sms):
    assert get(sms.base_url + "/numbers") == (400, {"error": "give phone"})
    assert sms_number(sms, NOBODY) == {}


def billing_rows(path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql, params).fetchall()


def test_billing_restrict_then_lift_marks_her_customer_invoices_and_payments(
    connectors, billing_db
):
    billing = connectors["billing"]
    outcome = billing.run(order("restrict", CAMILLE.email), ListSink()).outcome
    assert re.fullmatch(r"restricted 1 customer, \d+ invoices, \d+ payments", outcome)
    camille_id = customers(billing_db)[CAMILLE.customer_number][2]
    marks = billing_rows(
        billing_db,
        "SELECT DISTINCT restricted_at IS NOT NULL FROM customers WHERE id = ?"
        " UNION ALL SELECT count(*) FROM customers WHERE restricted_at IS NOT NULL",
        camille_id,
    )
    assert marks == [(1,), (1,)]
    lifted = billing.run(order("lift_restriction", CAMILLE.email), ListSink()).outcome
    assert lifted.startswith("lifted the restriction of 1 customer, ")
    assert billing_rows(
        billing_db, "SELECT count(*) FROM invoices WHERE restricted_at IS NOT NULL"
    ) == [(0,)]


def test_billing_rectify_changes_her_billing_address(connectors, billing_db):
    change = {"field": "customers.billing_address", "old": CAMILLE.address, "new": "5 rue Neuve"}
    task = order("rectify", CAMILLE.email, "", {"changes": [change]})
    assert connectors["billing"].run(task, ListSink()).outcome == (
        "changed customers.billing_address on 1 customer"
    )
    assert billing_rows(
        billing_db, "SELECT billing_address FROM customers WHERE customer_number = ?", "MD-000001"
    ) == [("5 rue Neuve",)]
    task = order(
        "rectify", CAMILLE.email, "", {"changes": [{"field": "customers.iban", "new": ""}]}
    )
    with pytest.raises(ConnectorError, match="billing has no field 'customers.iban'"):
        connectors["billing"].run(task, ListSink())


def test_camille_erased_everywhere_as_the_engine_asks(connectors, crm, sms, callbacks, billing_db):
    """The three systems after an erasure with the register's legal hold (what a newcomer
    checks in the README): the CRM no longer has her, billing kept her invoices and
    anonymised the rest, the SMS platform has her number opted out only."""
    camille_id = customers(billing_db)[CAMILLE.customer_number][2]
    invoices = billing_rows(billing_db, "SELECT * FROM invoices WHERE customer_id = ?", camille_id)
    crm_run(connectors, "erase", {"keep": []})
    task = order("erase", CAMILLE.email, "", {"keep": BILLING_HOLD}, phone=CAMILLE.phone)
    outcome = connectors["billing"].run(task, ListSink()).outcome
    assert outcome.startswith(
        "anonymised 1 customer (kept name, billing_address; restricted); deleted "
    )
    assert sms_run(connectors, callbacks, "erase", {"keep": []}).status == "succeeded"

    assert crm_contacts(crm) == []
    [customer] = billing_rows(
        billing_db,
        "SELECT name, billing_address, email, phone, customer_number, restricted_at"
        " FROM customers WHERE id = ?",
        camille_id,
    )
    assert customer[:5] == (CAMILLE.name, CAMILLE.address, None, None, f"anonymised-{camille_id}")
    assert customer[5].startswith(TODAY)
    kept = billing_rows(billing_db, "SELECT * FROM invoices WHERE customer_id = ?", camille_id)
    assert [row[:-1] for row in kept] == [row[:-1] for row in invoices]
    assert all(row[-1].startswith(TODAY) for row in kept)
    assert billing_rows(
        billing_db, "SELECT count(*) FROM trips WHERE customer_id = ?", camille_id
    ) == [(0,)]
    [subscription] = sms_number(sms)["subscriptions"]
    assert subscription["promotions"] == "opted_out"


def test_sms_objection_naming_no_activity_stops_its_promotions(connectors, sms, callbacks):
    answer = sms_run(connectors, callbacks, "object", {"direct_marketing": True})
    assert answer.outcome.startswith("+33639980001 opted out of promotions on ")
    assert sms_number(sms)["subscriptions"][0]["promotions"] == "opted_out"
