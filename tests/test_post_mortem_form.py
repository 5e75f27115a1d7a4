"""The post-mortem form branches: the person chooses to register directives or to report a
death first, and the form then shows, marks as required and checks that branch's fields only.
"""

import html
import re

import pytest
from sqlalchemy import select

from dsr.extensions import db
from dsr.models import DataRequest
from tests.conftest import csrf_token

#: the form pages: the database is incidental
pytestmark = pytest.mark.sqlite_only

CHOOSE = "/requests/new?type=post_mortem"
API = "/api/v1/requests"

#: branch -> its page, the inputs it shows, the labels marked required, the inputs with `required`
BRANCHES = {
    "directives": {
        "url": CHOOSE + "&mode=directives",
        "inputs": {
            "details.directive",
            "details.trusted_person_name",
            "details.trusted_person_email",
            "details.instructions",
        },
        "marked": {"Email address", "Full name", "Your directive"},
        "required": {"email", "name", "details.directive"},
    },
    "death_notice": {
        "url": CHOOSE + "&mode=death_notice",
        "inputs": {
            "details.requester_role",
            "details.deceased_name",
            "details.deceased_email",
            "details.date_of_death",
        },
        "marked": {
            "Email address",
            "Full name",
            "You are",
            "Name of the deceased",
            "Date of death",
        },
        "required": {
            "email",
            "name",
            "details.requester_role",
            "details.deceased_name",
            "details.date_of_death",
        },
    },
}
OTHER = {"directives": "death_notice", "death_notice": "directives"}
ALL_BRANCH_INPUTS = BRANCHES["directives"]["inputs"] | BRANCHES["death_notice"]["inputs"]

COMMON = {"email": "alice@example.org", "name": "Alice Martin"}


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def page_text(response) -> str:
    return response.get_data(as_text=True)


def branch_inputs(text: str) -> set[str]:
    """The details inputs on the page, but the one that says which branch."""
    return set(re.findall(r'name="(details\.[^"]+)"', text)) - {"details.mode"}


def marked(text: str) -> set[str]:
    """The labels and legends that show the required mark (a hidden mark does not count)."""
    return set(re.findall(r'>([^<>]+?) <span class="req" aria-hidden="true">\*</span>', text))


def required_inputs(text: str) -> set[str]:
    return set(re.findall(r'<(?:input|textarea|select)[^>]* name="([^"]+)"[^>]* required', text))


def post(client, branch: str, fields: dict):
    url = BRANCHES[branch]["url"]
    return client.post(url, data={**fields, "csrf_token": csrf_token(client, url)})


def stored(app) -> list[DataRequest]:
    with app.app_context():
        requests = list(db.session.scalars(select(DataRequest)))
        db.session.expunge_all()
        return requests


def test_the_form_first_asks_which_branch(client):
    response = client.get(CHOOSE)
    assert response.status_code == 200
    text = page_text(response)
    assert "What you want to do" in text
    for branch in BRANCHES:
        assert f'href="/requests/new?type=post_mortem&amp;mode={branch}"' in text
    assert "I register directives for my data after my death" in text
    assert "I report a death and ask for the directives or heirs' rights" in html.unescape(text)
    assert "<form" not in text.split("<main", 1)[1].split("</main>")[0]
    assert branch_inputs(text) == set() and marked(text) == set()


@pytest.mark.parametrize("mode", ["nope", ""])
def test_an_unknown_branch_asks_again(client, mode):
    text = page_text(client.get(f"{CHOOSE}&mode={mode}"))
    assert 'href="/requests/new?type=post_mortem&amp;mode=directives"' in text
    assert branch_inputs(text) == set()


@pytest.mark.parametrize("branch", BRANCHES)
def test_each_branch_shows_marks_and_requires_only_its_fields(client, branch):
    expected = BRANCHES[branch]
    response = client.get(expected["url"])
    assert response.status_code == 200
    text = page_text(response)
    assert branch_inputs(text) == expected["inputs"]
    assert not branch_inputs(text) & BRANCHES[OTHER[branch]]["inputs"]
    assert marked(text) == expected["marked"]
    assert required_inputs(text) == expected["required"]
    assert f'<input type="hidden" name="details.mode" value="{branch}">' in text
    assert f'action="/requests/new?type=post_mortem&amp;mode={branch}"' in text
    assert f'href="?type=post_mortem&amp;mode={branch}&amp;lang=fr"' in text


def test_the_trusted_person_is_marked_only_once_hand_over_is_chosen(client):
    text = page_text(client.get(BRANCHES["directives"]["url"]))
    for path in ("details.trusted_person_name", "details.trusted_person_email"):
        field_id = "f-" + path.replace(".", "-")
        label = re.search(rf'<label for="{field_id}">.*?</label>', text, re.S).group(0)
        assert '<span class="req" aria-hidden="true" hidden>*</span>' in label
        assert 'data-required-when="details.directive=hand_over"' in text
    assert "Required if your data are to be handed over" in text


@pytest.mark.parametrize("branch", BRANCHES)
def test_a_person_can_switch_branch(client, branch):
    text = page_text(client.get(BRANCHES[branch]["url"]))
    other = OTHER[branch]
    link = re.search(r'Change to: <a href="([^"]+)" data-branch-switch>', text).group(1)
    assert html.unescape(link) == BRANCHES[other]["url"]
    switched = page_text(client.get(html.unescape(link)))
    assert branch_inputs(switched) == BRANCHES[other]["inputs"]
    assert f'name="details.mode" value="{other}"' in switched


def test_the_script_is_same_origin_and_served(client):
    text = page_text(client.get(BRANCHES["directives"]["url"]))
    scripts = re.findall(r"<script[^>]*>", text)
    assert scripts == ['<script src="/static/branch.js" defer>']
    assert re.search(r"<script[^>]*>\s*[^<\s]", text) is None  # nothing inline
    with client.get("/static/branch.js") as script:
        assert script.status_code == 200
        assert "data-branch-switch" in script.get_data(as_text=True)
    assert "default-src 'self'" in client.get(CHOOSE).headers["Content-Security-Policy"]


#: branch -> (form fields, the details stored)
VALID = {
    "directives": (
        {
            "details.mode": "directives",
            "details.directive": "hand_over",
            "details.trusted_person_name": "Bob Martin",
            "details.trusted_person_email": "bob@example.org",
            "details.instructions": "Photos to Bob.",
        },
        {
            "mode": "directives",
            "directive": "hand_over",
            "trusted_person_name": "Bob Martin",
            "trusted_person_email": "bob@example.org",
            "instructions": "Photos to Bob.",
        },
    ),
    "death_notice": (
        {
            "details.mode": "death_notice",
            "details.requester_role": "designated_person",
            "details.deceased_name": "Jean Martin",
            "details.deceased_email": "",
            "details.date_of_death": "2024-03-01",
        },
        {
            "mode": "death_notice",
            "requester_role": "designated_person",
            "deceased_name": "Jean Martin",
            "date_of_death": "2024-03-01",
        },
    ),
}


@pytest.mark.parametrize("branch", BRANCHES)
def test_each_branch_is_sent(client, app, branch):
    fields, details = VALID[branch]
    response = post(client, branch, {**COMMON, **fields})
    assert response.status_code == 303, page_text(response)
    [req] = stored(app)
    assert (req.type, req.status, req.details) == ("post_mortem", "unverified", details)


#: branch -> (fields sent, the inputs that must say "required", a value that must be kept)
MISSING = {
    "directives": (
        {**COMMON, "details.mode": "directives", "details.instructions": "Close everything."},
        ["details.directive"],
        "Close everything.",
    ),
    "death_notice": (
        {
            **COMMON,
            "details.mode": "death_notice",
            "details.requester_role": "heir",
            "details.deceased_email": "jean@example.org",
        },
        ["details.deceased_name", "details.date_of_death"],
        "jean@example.org",
    ),
}


@pytest.mark.parametrize("branch", BRANCHES)
def test_a_missing_field_of_the_branch_keeps_the_branch_and_what_was_typed(client, app, branch):
    fields, paths, kept = MISSING[branch]
    response = post(client, branch, fields)
    assert response.status_code == 400
    text = page_text(response)
    for path in paths:
        field_id = "f-" + path.replace(".", "-")
        assert f'href="#{field_id}"' in text
        error = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', text, re.S)
        assert "This field is required." in error.group(1)
    assert f'value="{kept}"' in text or f">{kept}</textarea>" in text
    assert 'value="alice@example.org"' in text
    assert branch_inputs(text) == BRANCHES[branch]["inputs"]
    assert f'name="details.mode" value="{branch}"' in text
    assert stored(app) == []


def test_hand_over_without_a_trusted_person_marks_them_but_does_not_lock_the_choice(client):
    fields = {**COMMON, "details.mode": "directives", "details.directive": "hand_over"}
    text = page_text(post(client, "directives", fields))
    assert {"Trusted person&#39;s name", "Trusted person&#39;s email address"} <= marked(text)
    assert 'id="f-details-trusted_person_name-error"' in text
    assert re.search(r'value="hand_over"[^>]* checked', text)
    # without the script, choosing "erase" instead must still send: no `required` here
    assert required_inputs(text) == BRANCHES["directives"]["required"]


def test_fields_of_the_other_branch_are_refused_with_a_clear_message(client, app):
    fields = {
        **COMMON,
        "details.mode": "directives",
        "details.directive": "erase",
        "details.deceased_name": "Jean Martin",
    }
    response = post(client, "directives", fields)
    assert response.status_code == 400
    text = html.unescape(page_text(response))
    assert "Name of the deceased: Only for reporting a death: leave it out" in text
    assert stored(app) == []


def test_the_branch_page_speaks_french(client):
    text = html.unescape(page_text(client.get(CHOOSE + "&lang=fr")))
    assert "Ce que vous souhaitez faire" in text
    text = html.unescape(page_text(client.get(BRANCHES["death_notice"]["url"])))
    assert "Changer pour\u00a0:" in text and "Nom de la personne décédée" in text
    fields = {**COMMON, "details.mode": "death_notice", "details.directive": "erase"}
    text = html.unescape(page_text(post(client, "death_notice", fields)))
    assert "Uniquement pour enregistrer des directives" in text


# --- the API takes each branch as before, and refuses a mix -------------------------------


def api_body(details: dict) -> dict:
    return {**COMMON, "type": "post_mortem", "details": details}


@pytest.mark.parametrize(
    "details",
    [
        {"mode": "directives", "directive": "erase"},
        {"mode": "directives", "directive": "keep", "instructions": "Nothing to add."},
        {
            "mode": "directives",
            "directive": "hand_over",
            "trusted_person_name": "Bob Martin",
            "trusted_person_email": "bob@example.org",
        },
        {
            "mode": "death_notice",
            "requester_role": "heir",
            "deceased_name": "Jean Martin",
            "deceased_email": "jean@example.org",
            "date_of_death": "2024-03-01",
        },
    ],
)
def test_the_api_takes_each_branch(client, app, details):
    response = client.post(API, json=api_body(details))
    assert response.status_code == 201, response.get_json()
    assert stored(app)[0].details == details


def test_the_api_refuses_fields_of_the_other_branch(client, app):
    details = {
        "mode": "death_notice",
        "requester_role": "heir",
        "deceased_name": "Jean Martin",
        "date_of_death": "2024-03-01",
        "directive": "erase",
    }
    response = client.post(API, json=api_body(details))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"] == {
        "details.directive": [
            "Only for registering directives: leave it out when you report a death."
        ]
    }
    assert stored(app) == []
