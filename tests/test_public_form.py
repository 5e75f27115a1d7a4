"""The subject's request form: the list of rights, the form per type, submission, defences."""

import copy
import email
import html
import re
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from dsr import config as dsr_config
from dsr import signing
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.queue import QUEUES, get_queue
from dsr.web.forms import unflatten
from tests.conftest import csrf_token

TYPES = (
    "access",
    "rectification",
    "erasure",
    "portability",
    "restriction",
    "objection",
    "consent_withdrawal",
    "post_mortem",
)

#: consent activities of our own, so the test does not depend on the demo register
ACTIVITIES = [
    {
        "id": "newsletter",
        "legal_basis": "consent",
        "purpose": {
            "fr": "Vous envoyer notre lettre d'information",
            "en": "Send you our newsletter",
        },
    },
    {
        "id": "rides",
        "legal_basis": "contract",
        "purpose": {"fr": "Réserver vos trajets", "en": "Book your rides"},
    },
]


def instance_with_consent() -> dict:
    instance = copy.deepcopy(dsr_config.load_instance(str(dsr_config.DEMO_CONFIG)))
    instance.setdefault("register", {})["activities"] = ACTIVITIES
    return instance


@pytest.fixture
def app(make_app):
    return make_app(INSTANCE=instance_with_consent())


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


COMMON = {
    "email": "Alice@Example.org",
    "name": "Alice Martin",
    "identifiers.phone": "+33 6 12 34 56 78",
    "identifiers.customer_number": "",
}

#: type -> (form fields, the details we expect stored)
VALID = {
    "access": ({"details.note": "Mainly my rides"}, {"note": "Mainly my rides"}),
    "rectification": (
        {
            "details.changes.0.field": "Postal address",
            "details.changes.0.current_value": "1 rue A",
            "details.changes.0.corrected_value": "2 rue B",
            "details.changes.1.field": "",
            "details.changes.1.current_value": "",
            "details.changes.1.corrected_value": "",
            "details.changes.2.field": "Last name",
            "details.changes.2.corrected_value": "Martin",
        },
        {
            "changes": [
                {
                    "field": "Postal address",
                    "current_value": "1 rue A",
                    "corrected_value": "2 rue B",
                },
                {"field": "Last name", "corrected_value": "Martin"},
            ]
        },
    ),
    "erasure": (
        {"details.ground": "no_longer_necessary", "details.note": ""},
        {"ground": "no_longer_necessary"},
    ),
    "portability": (
        {"details.recipient_name": "Other Co", "details.recipient_email": "dpo@other.example"},
        {"recipient_name": "Other Co", "recipient_email": "dpo@other.example"},
    ),
    "restriction": ({"details.ground": "accuracy_contested"}, {"ground": "accuracy_contested"}),
    "objection": (
        {
            "details.basis": "particular_situation",
            "details.processing": "Fraud scoring",
            "details.grounds": "I was wrongly flagged",
        },
        {
            "basis": "particular_situation",
            "processing": "Fraud scoring",
            "grounds": "I was wrongly flagged",
        },
    ),
    "consent_withdrawal": (
        {"details.purposes": ["newsletter", "Partner offers"]},
        {"purposes": ["newsletter", "Partner offers"]},
    ),
    "post_mortem": (
        {
            "details.mode": "death_notice",
            "details.requester_role": "heir",
            "details.deceased_name": "Jean Martin",
            "details.date_of_death": "2024-03-01",
        },
        {
            "mode": "death_notice",
            "requester_role": "heir",
            "deceased_name": "Jean Martin",
            "date_of_death": "2024-03-01",
        },
    ),
}

#: type -> input names the form must show
FIELD_NAMES = {
    "access": ["details.note"],
    "rectification": [
        "details.changes.0.field",
        "details.changes.2.corrected_value",
        "details.changes.1.current_value",
    ],
    "erasure": ["details.ground", "details.note"],
    "portability": ["details.recipient_name", "details.recipient_email"],
    "restriction": ["details.ground"],
    "objection": ["details.basis", "details.processing", "details.grounds"],
    "consent_withdrawal": ["details.purposes"],
    # the death notice branch (tests/test_post_mortem_form.py has both)
    "post_mortem": [
        "details.mode",
        "details.requester_role",
        "details.deceased_name",
        "details.deceased_email",
        "details.date_of_death",
    ],
}

#: the branch a form that branches is shown in here, by type
BRANCH = {"post_mortem": "&mode=death_notice"}


def form_url(type_name: str) -> str:
    return f"/requests/new?type={type_name}{BRANCH.get(type_name, '')}"


def post_form(client, type_name: str, fields: dict, token: str | None = None, **kwargs):
    url = form_url(type_name)
    data = dict(fields)
    data["csrf_token"] = token or csrf_token(client, url)
    return client.post(url, data=data, **kwargs)


def stored(app) -> list[DataRequest]:
    with app.app_context():
        requests = list(db.session.scalars(select(DataRequest)))
        db.session.expunge_all()
        return requests


def count_stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DataRequest))


def queued_jobs(app) -> int:
    with app.app_context():
        return sum(get_queue(name).count for name in QUEUES)


def outbox_messages(app) -> list[email.message.EmailMessage]:
    outbox = Path(app.config["OUTBOX_DIR"])
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(outbox.rglob("*.eml"))
    ]


def body_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


# --- the list of rights --------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/requests/new"])
def test_index_lists_every_right(client, url):
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for type_name in TYPES:
        assert f'href="/requests/new?type={type_name}"' in text
    assert "Access my data" in text and "GDPR Art. 15" in text
    assert "Loi n° 78-17 Art. 85" in text


@pytest.mark.parametrize("url", ["/requests/new?type=nope", "/requests/new?type="])
def test_unknown_type_shows_the_list_with_404(client, url):
    page = client.get(url)
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "There is no such request" in text
    assert 'href="/requests/new?type=erasure"' in text


def test_post_to_unknown_type_stores_nothing(client, app):
    token = csrf_token(client, form_url("access"))
    page = client.post("/requests/new?type=nope", data={**COMMON, "csrf_token": token})
    assert page.status_code == 404
    assert count_stored(app) == 0


# --- the form per type ---------------------------------------------------------


@pytest.mark.parametrize("type_name", TYPES)
def test_form_renders_with_its_fields(client, type_name):
    page = client.get(form_url(type_name))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for name in [
        "email",
        "name",
        "identifiers.phone",
        "identifiers.customer_number",
        *FIELD_NAMES[type_name],
    ]:
        assert f'name="{name}"' in text, name
    assert re.search(r'<label for="f-email">[^<]*<span class="req"[^>]*>\*</span>', text)
    assert re.search(r'<input type="email" id="f-email" name="email"[^>]* required', text)
    assert "Fields marked with * are required." in text
    assert re.search(r'name="csrf_token" value="[^"]+"', text)
    assert 'name="language" value="en"' in text
    honeypot = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', text, re.S).group(0)
    assert 'name="website"' in honeypot
    assert 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot


def test_consent_form_offers_the_register_consent_activities(client):
    text = client.get(form_url("consent_withdrawal")).get_data(as_text=True)
    assert 'type="checkbox"' in text and 'value="newsletter"' in text
    assert "Send you our newsletter" in text
    assert 'value="rides"' not in text  # contract, not consent
    french = client.get(form_url("consent_withdrawal") + "&lang=fr").get_data(as_text=True)
    assert "Vous envoyer notre lettre d&#39;information" in french


def test_choice_labels_come_from_the_workflows(client):
    text = client.get(form_url("restriction")).get_data(as_text=True)
    assert 'type="radio"' in text and 'value="legal_claims"' in text
    assert "I need them for a legal claim" in text
    text = client.get(form_url("erasure")).get_data(as_text=True)
    assert '<select id="f-details-ground" name="details.ground"' in text
    assert 'value="child"' in text


@pytest.mark.parametrize("type_name", TYPES)
def test_valid_submission_is_stored_unverified_and_emailed(client, app, run_jobs, type_name):
    fields, expected_details = VALID[type_name]
    response = post_form(client, type_name, {**COMMON, **fields})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/requests/sent")

    [req] = stored(app)
    assert (req.type, req.status, req.email, req.name) == (
        type_name,
        "unverified",
        "alice@example.org",
        "Alice Martin",
    )
    assert req.details == expected_details
    assert req.identifiers == {"phone": "+33 6 12 34 56 78"}
    assert req.language == "en"

    run_jobs()
    [message] = outbox_messages(app)
    assert message["To"].addresses[0].addr_spec.lower() == "alice@example.org"
    link = re.search(r"http://dsr\.test/verify/(\S+)", body_text(message))
    assert link, body_text(message)
    with app.app_context():
        payload = signing.load(signing.Purpose.VERIFY, link.group(1))
    assert (payload.request_id, payload.nonce) == (req.id, req.verify_nonce)


def test_sent_page_says_check_the_mailbox(client):
    page = client.get("/requests/sent")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Check your mailbox" in text
    assert "The link expires in 48 hours." in text
    assert 'href="/requests/resend"' in text


# --- invalid input ---------------------------------------------------------------

#: (type, fields, path of the failing input, message, a value that must be kept)
INVALID = [
    ("access", {**COMMON, "email": ""}, "email", "This field is required.", "Alice Martin"),
    (
        "access",
        {**COMMON, "email": "not-an-email"},
        "email",
        "Enter a valid email address, such as name@example.com.",
        "not-an-email",
    ),
    ("access", {**COMMON, "name": "x" * 201}, "name", "Use at most 200 characters.", "x" * 201),
    (
        "rectification",
        {
            **COMMON,
            "details.changes.0.field": "Postal address",
            "details.changes.0.current_value": "1 rue A",
        },
        "details.changes.0.corrected_value",
        "This field is required.",
        "1 rue A",
    ),
    ("rectification", {**COMMON}, "details.changes", "This field is required.", "Alice Martin"),
    (
        "objection",
        {**COMMON, "details.basis": "particular_situation", "details.processing": "Fraud scoring"},
        "details.grounds",
        "Required for an objection on grounds of your situation.",
        "Fraud scoring",
    ),
    (
        "post_mortem",
        {
            **COMMON,
            "details.mode": "death_notice",
            "details.requester_role": "heir",
            "details.deceased_name": "Jean Martin",
        },
        "details.date_of_death",
        "This field is required.",
        "Jean Martin",
    ),
    (
        "post_mortem",
        {
            **COMMON,
            "details.mode": "death_notice",
            "details.requester_role": "heir",
            "details.deceased_name": "Jean Martin",
            "details.date_of_death": "3000-01-01",
        },
        "details.date_of_death",
        "The date cannot be in the future.",
        "3000-01-01",
    ),
    ("restriction", {**COMMON}, "details.ground", "This field is required.", "Alice Martin"),
    (
        "erasure",
        {**COMMON, "details.ground": "because"},
        "details.ground",
        "Choose one of:",
        "Alice Martin",
    ),
    (
        "portability",
        {**COMMON, "details.recipient_name": "Other Co"},
        "details.recipient_email",
        "Give both the receiving organisation",
        "Other Co",
    ),
    (
        "consent_withdrawal",
        {**COMMON, "details.purposes": ["", ""]},
        "details.purposes",
        "This field is required.",
        "Alice Martin",
    ),
]


@pytest.mark.parametrize(
    ("type_name", "fields", "path", "message", "kept"),
    INVALID,
    ids=[f"{case[0]}-{case[2]}" for case in INVALID],
)
def test_invalid_submission_shows_messages_and_keeps_values(
    client, app, type_name, fields, path, message, kept
):
    response = post_form(client, type_name, fields)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    field_id = "f-" + path.replace(".", "-")
    assert message in html.unescape(text)
    assert f'id="{field_id}-error"' in text
    assert f'href="#{field_id}"' in text  # the error summary links to the input
    assert 'class="error-summary"' in text
    assert f'value="{html.escape(kept)}"' in text or f">{html.escape(kept)}</textarea>" in text
    assert count_stored(app) == 0
    assert queued_jobs(app) == 0


def test_invalid_input_is_marked_for_assistive_technology(client):
    text = post_form(client, "access", {**COMMON, "email": "bad"}).get_data(as_text=True)
    tag = re.search(r'<input type="email" id="f-email"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in tag
    assert "f-email-error" in re.search(r'aria-describedby="([^"]+)"', tag).group(1)


def test_markup_in_the_name_is_escaped_when_shown_again(client):
    name = "<script>alert(1)</script>"
    response = post_form(client, "access", {**COMMON, "name": name, "email": "bad"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "<script>alert(1)" not in text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in text


def test_chosen_options_are_kept(client):
    fields = {**COMMON, "email": "", "details.basis": "particular_situation"}
    text = post_form(client, "objection", fields).get_data(as_text=True)
    assert re.search(r'value="particular_situation"[^>]* checked', text)
    fields = {**COMMON, "email": "", "details.purposes": ["newsletter", "My own words"]}
    text = post_form(client, "consent_withdrawal", fields).get_data(as_text=True)
    assert re.search(r'value="newsletter"[^>]* checked', text)
    assert 'id="f-details-purposes-other" name="details.purposes" value="My own words"' in text


# --- defences --------------------------------------------------------------------


def test_missing_csrf_token_is_refused_and_keeps_what_was_typed(client, app):
    response = client.post(form_url("access"), data=COMMON)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form has expired" in text
    assert f'value="{COMMON["email"]}"' in text
    assert count_stored(app) == 0


def test_tampered_csrf_token_is_refused(client, app):
    response = client.post(form_url("access"), data={**COMMON, "csrf_token": "forged"})
    assert response.status_code == 400
    assert count_stored(app) == 0


def test_honeypot_looks_like_success_but_does_nothing(client, app, run_jobs):
    response = post_form(client, "access", {**COMMON, "website": "http://spam.example"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/requests/sent")
    assert count_stored(app) == 0
    assert queued_jobs(app) == 0
    run_jobs()
    assert outbox_messages(app) == []


def test_submissions_per_email_are_rate_limited(make_app):
    app = make_app(RATELIMIT_SUBMIT_EMAIL="2 per hour")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = csrf_token(client, form_url("access"))
    for _ in range(2):
        assert post_form(client, "access", COMMON, token).status_code == 303
    refused = post_form(client, "access", {**COMMON, "email": " ALICE@example.org "}, token)
    assert refused.status_code == 429
    assert "You have sent several requests in a short time" in refused.get_data(as_text=True)
    other = post_form(client, "access", {**COMMON, "email": "bob@example.org"}, token)
    assert other.status_code == 303
    assert count_stored(app) == 3


def test_a_refused_submission_keeps_what_was_typed_and_says_when(make_app):
    """The 429 is the form again, filled in as sent, with the time to send it again."""
    app = make_app(RATELIMIT_SUBMIT_EMAIL="1 per hour")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    fields = {**COMMON, "details.ground": "unlawful", "details.note": "Since 2019, please"}
    assert post_form(client, "erasure", fields).status_code == 303
    refused = post_form(client, "erasure", fields)
    assert refused.status_code == 429
    retry = int(refused.headers["Retry-After"])
    assert 0 < retry <= 3600
    page = html.unescape(refused.get_data(as_text=True))
    assert 'value="Alice@Example.org"' in page and 'value="Alice Martin"' in page
    assert 'value="+33 6 12 34 56 78"' in page
    assert '<option value="unlawful" selected>' in page
    assert ">Since 2019, please</textarea>" in page
    # when, in words: a time with the controller's zone, and how long
    assert re.search(r"You can try again after \d{1,2}:\d\d\s[AP]M CES?T \(in \d+ minutes?\)", page)
    assert 'name="csrf_token"' in page  # a fresh token: the form can be sent as it is
    assert count_stored(app) == 1


def test_invalid_submissions_do_not_use_up_the_allowance(make_app):
    """Only accepted submissions count: a person who mistyped is not locked out."""
    app = make_app(RATELIMIT_SUBMIT_EMAIL="2 per hour", RATELIMIT_SUBMIT_IP="2 per hour")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for _ in range(4):
        invalid = post_form(client, "access", {**COMMON, "name": ""})
        assert invalid.status_code == 400
        assert post_form(client, "access", COMMON, token="stale").status_code == 400
    assert post_form(client, "access", COMMON).status_code == 303
    assert post_form(client, "access", COMMON).status_code == 303
    assert post_form(client, "access", COMMON).status_code == 429
    assert count_stored(app) == 2


def test_invalid_api_submissions_do_not_use_up_the_allowance(make_app):
    client = make_app(RATELIMIT_SUBMIT_EMAIL="1 per hour").test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    body = {"type": "access", "email": "alice@example.org", "name": "Alice", "language": "en"}
    for _ in range(3):
        assert client.post("/api/v1/requests", json={**body, "name": ""}).status_code == 422
    assert client.post("/api/v1/requests", json=body).status_code == 201
    refused = client.post("/api/v1/requests", json=body)
    assert refused.status_code == 429
    assert "You can try again after" in refused.get_json()["error"]["message"]


# --- language ----------------------------------------------------------------------


def test_browser_language_is_used(app):
    client = app.test_client()
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in page.get_data(as_text=True)
    page = client.get("/", headers={"Accept-Language": "fr-FR"})
    assert '<html lang="fr">' in page.get_data(as_text=True)


def test_chosen_language_sticks_and_follows_the_form(client, app):
    text = client.get(form_url("access") + "&lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in text
    text = client.get(form_url("access")).get_data(as_text=True)  # browser still says en
    assert '<html lang="fr">' in text
    assert 'name="language" value="fr"' in text
    assert 'href="?type=access&amp;lang=en"' in text  # the switch keeps the page
    assert post_form(client, "access", COMMON).status_code == 303
    assert stored(app)[0].language == "fr"


def test_base_page_shows_controller_dpo_and_authority(client):
    text = html.unescape(client.get("/").get_data(as_text=True))
    assert "Mobilités Démo SAS" in text
    assert "dpo@mobilites-demo.example" in text
    assert "CNIL" in text and "https://www.cnil.fr" in text
    assert 'href="#main"' in text and "/static/style.css" in text
    with client.get("/static/style.css") as stylesheet:
        assert stylesheet.status_code == 200


# --- unflatten ---------------------------------------------------------------------


def test_unflatten_nests_paths_and_orders_rows():
    form = MultiDict(
        [
            ("csrf_token", "t"),
            ("website", ""),
            ("email", "a@b.c"),
            ("name", "  "),
            ("details.changes.10.field", "ten"),
            ("details.changes.2.field", "two"),
            ("details.changes.3.field", ""),
            ("details.purposes", "x"),
            ("details.purposes", ""),
            ("details.purposes", "y"),
            ("identifiers.phone", "1"),
        ]
    )
    assert unflatten(form, list_fields={"details.purposes"}) == {
        "email": "a@b.c",
        "identifiers": {"phone": "1"},
        "details": {"changes": [{"field": "two"}, {"field": "ten"}], "purposes": ["x", "y"]},
    }


def test_unflatten_ignores_clashing_names():
    form = MultiDict([("details", "flat"), ("details.note", "nested"), ("a.b", "1"), ("a", "2")])
    assert unflatten(form) == {"details": "flat", "a": {"b": "1"}}
