"""The subject's signed links: confirm page, status page, withdrawal, new confirmation links."""

import email
import re
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from dsr import audit, operations, signing
from dsr.config import DEMO_CONFIG, load_instance
from dsr.extensions import db
from dsr.models import AuditEvent, DataRequest
from dsr.signing import Purpose
from dsr.status import RequestStatus as S
from dsr.templating import localdate
from tests.conftest import csrf_token

PAYLOAD = {
    "type": "access",
    "email": "alice@example.org",
    "name": "Alice Martin",
    "identifiers": {},
    "details": {},
    "language": "en",
}
OPEN_TITLE = "Received, waiting to be processed"
USED = "This link was already used or replaced by a newer one"
RESEND_ANSWER = "If this address has requests waiting for confirmation or not closed yet, we sent"


def english(client):
    """Pages in English whatever translations exist, so the assertions read the source text."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def app(make_app):
    """Requests stay `open` once verified: these tests follow the subject's links, not
    processing (tests/test_processing.py covers what starts by itself)."""
    instance = load_instance(str(DEMO_CONFIG))
    instance["processing"]["auto_start"] = []
    return make_app(INSTANCE=instance)


@pytest.fixture
def client(app):
    return english(app.test_client())


def create(app, **changes) -> int:
    """A new unverified request, committed; its id."""
    with app.app_context():
        req = operations.create_request({**PAYLOAD, **changes})
        db.session.commit()
        return req.id


def snapshot(app, request_id: int) -> dict:
    with app.app_context():
        req = db.session.get(DataRequest, request_id)
        return {
            "status": req.status,
            "nonce": req.verify_nonce,
            "ref": req.ref,
            "due_at": req.effective_due_at,
            "verified_at": req.verified_at,
        }


def verify_path(app, request_id: int) -> str:
    with app.app_context():
        nonce = db.session.get(DataRequest, request_id).verify_nonce
        return "/verify/" + signing.sign(Purpose.VERIFY, request_id, nonce)


def status_path(app, request_id: int) -> str:
    with app.app_context():
        return "/status/" + signing.sign(Purpose.STATUS, request_id)


def move(app, request_id: int, *targets: S, actor: str = "staff:bob@corp.example") -> None:
    with app.app_context():
        req = db.session.get(DataRequest, request_id)
        if req.status == S.UNVERIFIED:
            operations.verify(req, req.verify_nonce)
        for target in targets:
            operations.transition_to(req, target, actor=actor, reason="internal note 42")
        db.session.commit()


def outbox(app) -> list[email.message.EmailMessage]:
    """Every delivered email, oldest first."""
    files = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def mails(app, template: str) -> list[email.message.EmailMessage]:
    return [m for m in outbox(app) if m["X-DSR-Template"] == template]


def link_in(message, path: str) -> str:
    """The path of the link to `path` in a message, as the subject would open it."""
    match = re.search(r"http://dsr\.test(/" + path + r"/[A-Za-z0-9_.\-]+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def post(client, url: str, data: dict | None = None, form_url: str | None = None):
    """POST like a browser: with the CSRF token of the page that holds the form."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **(data or {})})


def text(response) -> str:
    return response.get_data(as_text=True)


# --- the whole chain ---------------------------------------------------------------------


def submit_form(client, email_address: str) -> None:
    token = csrf_token(client, "/requests/new?type=access")
    response = client.post(
        "/requests/new?type=access",
        data={
            "csrf_token": token,
            "type": "access",
            "email": email_address,
            "name": "Alice Martin",
        },
    )
    assert response.status_code in (302, 303), text(response)


def test_form_to_confirmation_to_status_page(app, client, run_jobs):
    submit_form(client, "alice@example.org")
    run_jobs()
    [verify_mail] = mails(app, "verify")
    link = link_in(verify_mail, "verify")
    with app.app_context():
        request_id = db.session.scalars(select(DataRequest.id)).one()
    ref = snapshot(app, request_id)["ref"]

    page = client.get(link)
    assert page.status_code == 200
    assert ref in text(page) and "Access my data" in text(page)
    assert text(page).count('type="submit"') == 1
    assert snapshot(app, request_id)["status"] == S.UNVERIFIED  # a GET never verifies

    response = post(client, link)
    assert response.status_code == 303
    assert re.fullmatch(r"/status/[A-Za-z0-9_.\-]+", response.headers["Location"])
    state = snapshot(app, request_id)
    assert state["status"] == S.OPEN and state["nonce"] is None

    status = text(client.get(response.headers["Location"]))
    with app.test_request_context(headers={"Accept-Language": "en"}):
        due = localdate(state["due_at"])
    assert ref in status and OPEN_TITLE in status and due in status
    assert "We received your request." in status
    assert "You confirmed your email address; your request is in our queue." in status
    assert "We emailed you a link to confirm your address." in status  # the verify email

    run_jobs()
    [confirmed] = mails(app, "confirmed")
    assert client.get(link_in(confirmed, "status")).status_code == 200


# --- the confirm link ------------------------------------------------------------------------


def tampered(path: str) -> str:
    """The first character of the signature changed.

    Not the last one: the final base64 character of a signature carries unused
    bits, so changing it may decode to the same bytes and still verify.
    """
    head, _, signature = path.rpartition(".")
    first = "A" if signature[0] != "A" else "B"
    return f"{head}.{first}{signature[1:]}"


def test_tampered_verify_link_is_refused_and_changes_nothing(app, client):
    request_id = create(app)
    before = snapshot(app, request_id)
    bad = tampered(verify_path(app, request_id))
    page = client.get(bad)
    assert page.status_code == 400 and "This link is not valid" in text(page)
    token = csrf_token(client, "/requests/resend")
    assert client.post(bad, data={"csrf_token": token}).status_code == 400
    assert snapshot(app, request_id) == before


def test_expired_verify_link_offers_a_new_one(make_app):
    app = make_app(VERIFY_LINK_MAX_AGE=-1)
    client = english(app.test_client())
    request_id = create(app)
    link = verify_path(app, request_id)
    page = client.get(link)
    assert page.status_code == 410 and "This link has expired" in text(page)
    assert 'action="/requests/resend"' in text(page) and 'name="email"' in text(page)
    response = post(client, link, form_url="/requests/resend")
    assert response.status_code == 410
    assert snapshot(app, request_id)["status"] == S.UNVERIFIED


def test_verify_link_works_once(app, client):
    request_id = create(app)
    link = verify_path(app, request_id)
    assert post(client, link).status_code == 303
    again = client.get(link)
    assert again.status_code == 409 and USED in text(again)
    assert snapshot(app, request_id)["ref"] not in text(again)  # reveals nothing else
    token = csrf_token(client, "/requests/resend")
    assert client.post(link, data={"csrf_token": token}).status_code == 409


def test_missing_csrf_token_does_not_verify(app, client):
    request_id = create(app)
    response = client.post(verify_path(app, request_id))
    assert response.status_code == 400
    assert snapshot(app, request_id)["status"] == S.UNVERIFIED


def test_links_only_work_for_their_purpose(app, client):
    request_id = create(app)
    verify_token = verify_path(app, request_id).removeprefix("/verify/")
    status_token = status_path(app, request_id).removeprefix("/status/")
    assert client.get(f"/status/{verify_token}").status_code == 400
    assert client.get(f"/verify/{status_token}").status_code == 400


# --- new confirmation links ------------------------------------------------------------------


def test_resend_replaces_the_old_link(app, client, run_jobs):
    request_id = create(app)
    old = verify_path(app, request_id)
    response = post(client, "/requests/resend", {"email": " Alice@Example.org "})
    assert response.status_code == 200 and RESEND_ANSWER in text(response)
    run_jobs()
    new = link_in(mails(app, "verify")[-1], "verify")
    assert client.get(old).status_code == 409
    assert client.get(new).status_code == 200
    assert post(client, new).status_code == 303
    assert snapshot(app, request_id)["status"] == S.OPEN
    with app.app_context():
        kinds = [e.kind for e in audit.events_for(request_id)]
    assert "verification.resent" in kinds


def test_resend_answer_is_the_same_for_known_and_unknown_addresses(app, client, run_jobs):
    create(app)
    known = post(client, "/requests/resend", {"email": "alice@example.org"})
    unknown = post(client, "/requests/resend", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    run_jobs()
    assert [m["To"] for m in mails(app, "verify")] == ["alice@example.org"]


def test_resend_refuses_a_malformed_address(app, client):
    request_id = create(app)
    nonce = snapshot(app, request_id)["nonce"]
    response = post(client, "/requests/resend", {"email": "alice@"})
    assert response.status_code == 400
    assert "Enter a valid email address" in text(response)
    assert snapshot(app, request_id)["nonce"] == nonce


def test_resend_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_RESEND_EMAIL="1 per hour")
    client = english(app.test_client())
    assert post(client, "/requests/resend", {"email": "alice@"}).status_code == 400  # not counted
    assert post(client, "/requests/resend", {"email": "alice@example.org"}).status_code == 200
    refused = post(client, "/requests/resend", {"email": "alice@example.org"})
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 3600
    page = text(refused)
    assert 'value="alice@example.org"' in page and "You can try again after" in page


def test_resend_sends_the_status_link_of_every_open_request(app, client, run_jobs):
    """A lost status link is not lost for good: every confirmed request not closed yet gets
    its link again; unconfirmed ones a new confirmation link; closed ones nothing."""
    unconfirmed = create(app)
    confirmed = create(app, type="erasure")
    move(app, confirmed)
    processing = create(app, type="restriction")
    move(app, processing, S.PROCESSING)
    closed = create(app, type="objection", details={"basis": "direct_marketing"})
    move(app, closed, S.WITHDRAWN)
    create(app, email="bob@example.org")
    response = post(client, "/requests/resend", {"email": "Alice@example.org"})
    assert response.status_code == 200 and RESEND_ANSWER in text(response)
    run_jobs()
    [verify] = mails(app, "verify")
    assert (
        verify["To"] == "alice@example.org"
        and snapshot(app, unconfirmed)["ref"] in verify["Subject"]
    )
    links = mails(app, "status_link")
    assert sorted(m["X-DSR-Reference"] for m in links) == sorted(
        snapshot(app, i)["ref"] for i in (confirmed, processing)
    )
    assert all(m["To"] == "alice@example.org" for m in links)
    page = client.get(link_in(links[0], "status"))
    assert page.status_code == 200
    assert "We emailed you the link to this page again." in text(page)


# --- the status page -------------------------------------------------------------------------


def test_status_page_hides_actors_and_internal_data(app, client):
    request_id = create(app)
    move(app, request_id, S.PROCESSING)
    with app.app_context():
        audit.record(
            "connector.task.finished",
            actor="connector:crm",
            request_id=request_id,
            data={"records": 12},
        )
        db.session.commit()
        hashes = [e.hash for e in audit.events_for(request_id)]
    page = text(client.get(status_path(app, request_id)))
    assert "We started the work in our systems." in page
    assert "Case updated" not in page  # an event the person has no words for is left out
    assert "bob@corp.example" not in page and "internal note 42" not in page
    assert "connector:crm" not in page and not any(h in page for h in hashes)


def test_status_page_says_the_clock_is_paused(app, client):
    request_id = create(app)
    move(app, request_id, S.AWAITING_SUBJECT)
    page = text(client.get(status_path(app, request_id)))
    assert "Waiting for information from you" in page and "The clock is paused" in page


def test_markup_in_the_name_is_escaped(app, client):
    request_id = create(app, name="<script>alert(1)</script>")
    page = text(client.get(status_path(app, request_id)))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page


def test_status_page_names_the_dpo_and_the_authority(app, client):
    response = client.get(status_path(app, create(app)))
    page = text(response)
    assert app.config["INSTANCE"]["controller"]["dpo"]["email"] in page
    assert "CNIL" in page
    # the token in the URL must not leak to the authority's site through the Referer (the
    # confirmation and withdrawal forms still send it to us, as CSRF over HTTPS requires)
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_bad_and_expired_status_links(make_app):
    app = make_app(STATUS_LINK_MAX_AGE=-1)
    client = english(app.test_client())
    path = status_path(app, create(app))
    assert client.get(path).status_code == 410
    assert client.get(tampered(path)).status_code == 400
    assert client.get("/status/not-a-token").status_code == 400


# --- withdrawal ------------------------------------------------------------------------------


def test_withdraw_needs_the_checkbox_and_works_once(app, client, run_jobs):
    request_id = create(app)
    move(app, request_id)
    path = status_path(app, request_id)

    unticked = post(client, path + "/withdraw", form_url=path)
    assert unticked.status_code == 400 and "Tick the box" in text(unticked)
    assert snapshot(app, request_id)["status"] == S.OPEN

    done = post(client, path + "/withdraw", {"confirm": "yes"}, form_url=path)
    assert done.status_code == 303 and done.headers["Location"] == path
    page = text(client.get(path))
    assert "Your request was withdrawn" in page and "You withdrew your request." in page
    assert 'name="confirm"' not in page  # no withdraw form on a closed case
    assert snapshot(app, request_id)["status"] == S.WITHDRAWN

    token = csrf_token(client, "/requests/resend")
    again = client.post(path + "/withdraw", data={"csrf_token": token, "confirm": "yes"})
    assert again.status_code == 409 and "already closed" in text(again)
    run_jobs()
    assert len(mails(app, "withdrawn")) == 1


def test_verification_and_withdrawal_are_audited(app, client):
    request_id = create(app)
    assert post(client, verify_path(app, request_id)).status_code == 303
    path = status_path(app, request_id)
    assert post(client, path + "/withdraw", {"confirm": "yes"}, form_url=path).status_code == 303
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.request_id == request_id, AuditEvent.kind == "status.changed"
            )
        ).all()
        changes = [(e.actor, e.data["from"], e.data["to"]) for e in events]
    assert changes == [("subject", "unverified", "open"), ("subject", "open", "withdrawn")]
