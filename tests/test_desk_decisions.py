"""The handler's decisions that stretch or end a case: extend (Art. 12(3)), refuse
(Art. 12(4), 12(5)), close (answered by another channel), notes for staff, duplicates and
their merging; each through the page and the staff API, with its email in the person's
language, its audit event, its effect on the clock, and the roles that may take it."""

import calendar
import copy
import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest
from babel.dates import format_date
from conftest import csrf_token, outbox_messages
from fixtures_answers import by_ref, case_url, kinds
from fixtures_staff import bearer, get_request, new_case, staff_instance

from dsr import audit, exemptions, operations, processing, signing
from dsr.config import DEMO_CONFIG, ConfigError, load_instance
from dsr.extensions import db
from dsr.models.task import TaskStatus as T
from dsr.models.types import utcnow
from dsr.signing import Purpose
from dsr.status import RequestStatus as S

PARIS = ZoneInfo("Europe/Paris")
#: an exemption the instance adds to the built-in ones
CUSTOM = {
    "id": "aml_indirect_access",
    "label": {
        "fr": "Code monétaire et financier, art. L561-45 : accès indirect auprès de la CNIL",
        "en": "Monetary and Financial Code, art. L561-45: indirect access through the CNIL",
    },
}
DECISIONS = ("extend", "reject", "close", "notes", "merge")


@pytest.fixture
def app(make_app):
    instance = staff_instance()
    instance["exemptions"] = [copy.deepcopy(CUSTOM)]
    return make_app(INSTANCE=instance)


# --- helpers, and the legal clock computed without dsr.deadlines ----------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """Regulation 1182/71 Art. 3(2)(c): same date, or the month's last day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def working_day(day: dt.date) -> dt.date:
    """Art. 3(4): past Saturdays, Sundays and French public holidays."""
    while day.weekday() >= 5 or day in holidays.France(years=day.year):
        day += dt.timedelta(days=1)
    return day


def extended(ref_due_at: str, months: int) -> dt.date:
    """The extended last day, from the first deadline the API gave (`due_at`)."""
    first = dt.datetime.fromisoformat(ref_due_at).astimezone(PARIS).date()
    return working_day(add_months(first, months))


def end_of_day_z(day: dt.date) -> str:
    moment = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=PARIS).astimezone(dt.UTC)
    return moment.isoformat().replace("+00:00", "Z")


def api(client, token: str, ref: str, decision: str, body: dict):
    return client.post(f"/api/v1/requests/{ref}/{decision}", headers=bearer(token), json=body)


def read(client, token: str, ref: str) -> dict:
    response = client.get(f"/api/v1/requests/{ref}", headers=bearer(token))
    assert response.status_code == 200
    return response.get_json()


def page_post(client, ref: str, decision: str, data: dict):
    token = csrf_token(client, case_url(ref))
    return client.post(f"{case_url(ref)}/{decision}", data={"csrf_token": token, **data})


def mails(app, template: str) -> list:
    return [m for m in outbox_messages(app) if m["X-DSR-Template"] == template]


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def event_data(app, ref: str, kind: str) -> list[dict]:
    with app.app_context():
        return [e.data for e in audit.events_for(by_ref(ref).id) if e.kind == kind]


def in_french(app, ref: str) -> None:
    with app.app_context():
        by_ref(ref).language = "fr"
        db.session.commit()


def started(app, run_jobs, **kwargs) -> str:
    """A request in processing: the paper archive waits for a handler, the old CRM fails."""
    ref = new_case(app, **kwargs)
    with app.app_context():
        processing.start(by_ref(ref), actor="staff:test")
    run_jobs()
    return ref


def status_page(app, client, ref: str) -> str:
    with app.app_context():
        token = signing.sign(Purpose.STATUS, by_ref(ref).id)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client.get(f"/status/{token}").get_data(as_text=True)


# --- extension (Art. 12(3)) ------------------------------------------------------------


def test_extension_through_the_api(app, client, staff_tokens, run_jobs):
    ref = new_case(app, "processing", due_in_days=10)
    token = staff_tokens["handler"]
    first_due = read(client, token, ref)["due_at"]
    reason = "Your request covers ten years of trips kept in three archives."
    response = api(client, token, ref, "extend", {"reason": reason})
    assert response.status_code == 200, response.get_json()
    new_day = extended(first_due, 2)
    assert response.get_json()["due_at"] == end_of_day_z(new_day)
    assert response.get_json()["decisions"]["extension"]["months"] == 2
    [item] = client.get("/api/v1/requests", headers=bearer(token)).get_json()["items"]
    assert item["due_at"] == end_of_day_z(new_day)  # the queue's date

    again = api(client, token, ref, "extend", {"reason": reason})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_extended"
    [data] = event_data(app, ref, "deadline.extended")
    assert data["months"] == 2 and "reason" not in data  # the handler's words stay off the chain

    run_jobs()
    [message] = mails(app, "deadline_extended")
    text = body_of(message)
    assert reason in text and format_date(new_day, "long", locale="en") in text
    assert "12(3)" in text and message["To"] == "alice@example.org"
    subject_page = status_page(app, app.test_client(), ref)
    assert "We extended the deadline; our email gives the reasons." in subject_page
    assert format_date(new_day, "long", locale="en") in subject_page


def test_extension_refused_after_the_first_deadline_and_on_bad_input(app, client, staff_tokens):
    token = staff_tokens["handler"]
    late = new_case(app, "open", due_in_days=-1)
    response = api(client, token, late, "extend", {"reason": "Too many requests."})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "deadline_passed"
    unconfirmed = new_case(app, "unverified")
    response = api(client, token, unconfirmed, "extend", {"reason": "x"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "wrong_status"
    ref = new_case(app, "open", due_in_days=5)
    for body in ({}, {"reason": ""}, {"reason": "x", "months": 3}, {"reason": "x" * 4001}):
        bad = api(client, token, ref, "extend", body)
        assert bad.status_code == 422, body
        error = bad.get_json()["error"]
        assert error["code"] == "validation_error" and error["fields"], body
    assert get_request(app, ref).extended_due_at is None


def test_extension_through_the_page_by_one_month_in_french(app, handler_client, run_jobs):
    ref = new_case(app, "open", due_in_days=3)
    in_french(app, ref)
    with app.app_context():
        first = by_ref(ref).due_at.astimezone(PARIS).date()
    response = page_post(
        handler_client,
        ref,
        "extend",
        {"extend-months": "1", "extend-reason": "Le nombre de demandes reçues ce mois-ci."},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("#decide")
    new_day = working_day(add_months(first, 1))
    request = get_request(app, ref)
    assert request.extended_due_at.astimezone(PARIS).date() == new_day
    assert request.effective_due_at == request.extended_due_at
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Deadline extended by 1 month" in page and "Extend the deadline</button>" not in page
    assert format_date(new_day, "long", locale="en") in page
    queue = handler_client.get("/staff/").get_data(as_text=True)
    assert format_date(new_day, "medium", locale="en") in queue
    run_jobs()
    [message] = mails(app, "deadline_extended")
    assert message["Content-Language"] == "fr"
    assert "Le nombre de demandes" in body_of(message)
    assert format_date(new_day, "long", locale="fr") in body_of(message)
    assert "deadline.extended" in kinds(app, ref)


def test_the_extension_follows_a_later_pause_of_the_clock(app, client, staff_tokens):
    ref = new_case(app, "open", due_in_days=20)
    token = staff_tokens["handler"]
    assert api(client, token, ref, "extend", {"reason": "Complex."}).status_code == 200
    with app.app_context():
        request = by_ref(ref)
        operations.transition_to(request, S.AWAITING_SUBJECT, actor="staff:test")
        request.pauses[-1].started_at = utcnow() - dt.timedelta(days=6)  # six days ago
        operations.transition_to(request, S.OPEN, actor="subject")
        db.session.commit()
    detail = read(client, token, ref)
    with app.app_context():
        received = by_ref(ref).received_at.astimezone(PARIS).date()
    first = working_day(add_months(received, 1) + dt.timedelta(days=6))
    assert detail["due_at"] == end_of_day_z(working_day(add_months(first, 2)))


# --- refusal (Art. 12(4), 12(5)) -------------------------------------------------------


def test_refusal_on_an_exemption_through_the_api(app, client, staff_tokens, run_jobs):
    ref = started(app, run_jobs)
    token = staff_tokens["handler"]
    explanation = "Your file concerns an ongoing anti-money-laundering review."
    body = {"ground": "exemption", "exemption": CUSTOM["id"], "explanation": explanation}
    response = api(client, token, ref, "reject", body)
    assert response.status_code == 200, response.get_json()
    detail = response.get_json()
    assert detail["status"] == "rejected"
    assert detail["decisions"]["refusal"]["exemption"] == CUSTOM["id"]
    assert {task["status"] for task in detail["tasks"]} <= {T.CANCELLED, T.FAILED}
    assert any(task["status"] == T.CANCELLED for task in detail["tasks"])
    [data] = event_data(app, ref, "decision.refusal")
    assert data == {"ground": "exemption", "exemption": CUSTOM["id"]}

    run_jobs()
    [message] = mails(app, "rejected")
    text = body_of(message)
    assert explanation in text and CUSTOM["label"]["en"] in text
    assert "Commission Nationale de l'Informatique et des Libertés" in text
    assert "lodge a complaint" in text and "judicial remedy" in text
    again = api(client, token, ref, "reject", body)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "wrong_status"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"ground": "exemption", "explanation": "x"}, "exemption"),
        ({"ground": "exemption", "exemption": "nothing_like_it", "explanation": "x"}, "exemption"),
        ({"ground": "excessive", "exemption": "legal_claims", "explanation": "x"}, "exemption"),
        ({"ground": "because", "explanation": "x"}, "ground"),
        ({"ground": "excessive"}, "explanation"),
    ],
)
def test_refusal_bad_input(app, client, staff_tokens, body, field):
    ref = new_case(app, "open")
    response = api(client, staff_tokens["handler"], ref, "reject", body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert get_request(app, ref).status == "open"


def test_refusal_through_the_page_in_french(app, handler_client, run_jobs):
    ref = new_case(app, "open")
    in_french(app, ref)
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Art. 17(3)(e) GDPR: the establishment, exercise or defence of legal claims" in page
    assert CUSTOM["label"]["en"] in page and "Manifestly unfounded (Art. 12(5))" in page
    missing = page_post(handler_client, ref, "reject", {"reject-ground": "exemption"})
    assert missing.status_code == 303 and get_request(app, ref).status == "open"
    response = page_post(
        handler_client,
        ref,
        "reject",
        {
            "reject-ground": "manifestly_unfounded",
            "reject-exemption": "",
            "reject-explanation": "Vous nous demandez des données que nous n'avons jamais eues.",
        },
    )
    assert response.status_code == 303
    assert get_request(app, ref).status == "rejected"
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Refused by staff:handler@staff.example" in page
    assert "Refuse the request</button>" not in page
    run_jobs()
    [message] = mails(app, "rejected")
    text = body_of(message)
    assert message["Content-Language"] == "fr"
    assert "manifestement infondée" in text and "jamais eues" in text
    assert "CNIL" in text and "recours juridictionnel" in text
    assert "status.changed" in kinds(app, ref) and "decision.refusal" in kinds(app, ref)


# --- closing: the answer went out by another channel -----------------------------------


def test_close_through_the_api(app, client, staff_tokens, run_jobs):
    ref = started(app, run_jobs)
    token = staff_tokens["admin"]
    reason = "Answered by registered letter on 3 March, with a copy of the paper file."
    response = api(client, token, ref, "close", {"reason": reason})
    assert response.status_code == 200, response.get_json()
    detail = response.get_json()
    assert detail["status"] == "completed"
    assert detail["decisions"]["closure"]["reason"] == reason
    assert any(task["status"] == T.CANCELLED for task in detail["tasks"])
    assert "request.closed" in kinds(app, ref)
    run_jobs()
    [message] = mails(app, "closed")
    assert reason in body_of(message)
    assert not mails(app, "answer_ready")  # no pack
    again = api(client, token, ref, "close", {"reason": reason})
    assert again.status_code == 409
    assert api(client, token, ref, "close", {}).status_code == 422


def test_close_through_the_page(app, handler_client, run_jobs):
    ref = new_case(app, "open")
    empty = page_post(handler_client, ref, "close", {"close-reason": ""})
    assert empty.status_code == 303 and get_request(app, ref).status == "open"
    response = page_post(handler_client, ref, "close", {"close-reason": "Answered by phone."})
    assert response.status_code == 303
    request = get_request(app, ref)
    assert request.status == "completed" and request.closed_at is not None
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "the answer went out by another channel" in page and "Answered by phone." in page
    run_jobs()
    assert len(mails(app, "closed")) == 1


# --- notes -----------------------------------------------------------------------------


def test_notes_are_for_staff_only(app, client, staff_tokens, handler_client):
    ref = new_case(app, "open")
    token = staff_tokens["handler"]
    text = "Called the DPO of the partner: they hold nothing on her."
    response = api(client, token, ref, "notes", {"text": text})
    assert response.status_code == 201
    note = response.get_json()
    assert note["author"] == "api-handler@staff.example" and note["text"] == text
    assert note["created_at"].endswith("Z")
    assert read(client, staff_tokens["viewer"], ref)["notes"] == [note]
    assert api(client, token, ref, "notes", {"text": ""}).status_code == 422

    second = page_post(handler_client, ref, "notes", {"note-text": "Second look: all good."})
    assert second.status_code == 303
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert text in page and "Second look: all good." in page
    assert "handler@staff.example" in page
    [data, _second] = event_data(app, ref, "note.added")
    assert data == {"note_id": note["id"]}  # the text is not in the chain

    subject_page = status_page(app, app.test_client(), ref)
    assert text not in subject_page and "Second look" not in subject_page
    assert subject_page.count("Case updated") == 0


# --- duplicates ------------------------------------------------------------------------


def test_duplicates_are_linked_both_ways_and_merged_through_the_api(
    app, client, staff_tokens, handler_client, run_jobs
):
    first = new_case(app, "open")
    second = new_case(app, "open")
    other_right = new_case(app, "open", type_="erasure")
    other_person = new_case(app, "open", email="bob@example.org")
    token = staff_tokens["handler"]
    assert [d["ref"] for d in read(client, token, first)["duplicates"]] == [second]
    assert [d["ref"] for d in read(client, token, second)["duplicates"]] == [first]
    assert read(client, token, other_right)["duplicates"] == []
    assert read(client, token, other_person)["duplicates"] == []
    page = handler_client.get(case_url(first)).get_data(as_text=True)
    assert f">{second}</a>" in page and f"Merge this request into {second}" in page

    refused = api(client, token, second, "merge", {"into": other_person})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_a_duplicate"
    unknown = api(client, token, second, "merge", {"into": "DSR-1999-000001"})
    assert unknown.status_code == 422 and "into" in unknown.get_json()["error"]["fields"]
    response = api(client, token, second, "merge", {"into": first})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "completed"
    assert response.get_json()["merged_into"] == first
    assert [d["ref"] for d in read(client, token, first)["duplicates"]] == [second]
    assert read(client, token, first)["status"] == "open"
    for ref in (first, second):
        assert event_data(app, ref, "duplicate.merged") == [{"duplicate": second, "into": first}]
    run_jobs()
    [message] = mails(app, "merged")
    assert message["X-DSR-Reference"] == second and first in body_of(message)
    page = handler_client.get(case_url(second)).get_data(as_text=True)
    assert f"Merged by staff:api-handler@staff.example into {first}" in page
    assert "Merge this request into" not in page


def test_a_duplicate_is_merged_through_the_page(app, handler_client, run_jobs):
    first = new_case(app, "open")
    second = new_case(app, "processing")
    response = page_post(handler_client, first, "merge", {"into": second})
    assert response.status_code == 303
    assert get_request(app, first).status == "completed"
    assert get_request(app, first).merged_into_id == get_request(app, second).id
    page = handler_client.get(case_url(second)).get_data(as_text=True)
    assert "merged into this request" in page
    run_jobs()
    assert len(mails(app, "merged")) == 1


# --- who may decide --------------------------------------------------------------------


BODIES = {
    "extend": {"reason": "x"},
    "reject": {"ground": "excessive", "explanation": "x"},
    "close": {"reason": "x"},
    "notes": {"text": "x"},
    "merge": {"into": "DSR-2000-000001"},
}


@pytest.mark.parametrize("decision", DECISIONS)
def test_a_viewer_decides_nothing_through_the_api(app, client, staff_tokens, decision):
    ref = new_case(app, "open", due_in_days=5)
    response = api(client, staff_tokens["viewer"], ref, decision, BODIES[decision])
    assert response.status_code == 403
    assert response.get_json()["error"]["code"]
    assert api(client, "", ref, decision, BODIES[decision]).status_code == 401


def test_a_viewer_sees_no_form_and_cannot_post_them(app, viewer_client, handler_client):
    ref = new_case(app, "open", due_in_days=5)
    new_case(app, "open")  # a duplicate
    buttons = (
        "Extend the deadline</button>",
        "Refuse the request</button>",
        "Close the request</button>",
        "Add the note</button>",
        "Merge this request into",
    )
    handler_page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert all(button in handler_page for button in buttons)
    viewer_page = viewer_client.get(case_url(ref)).get_data(as_text=True)
    assert not any(button in viewer_page for button in buttons)
    assert "Duplicates" in viewer_page  # reading is allowed
    token = csrf_token(viewer_client, case_url(ref))
    for decision in DECISIONS:
        response = viewer_client.post(f"{case_url(ref)}/{decision}", data={"csrf_token": token})
        assert response.status_code == 403, decision
    assert get_request(app, ref).status == "open"


# --- the instance's exemptions ---------------------------------------------------------


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "entries",
    [
        "legal_claims",
        [{"id": "legal_claims", "label": "Built in already"}],
        [{"id": "mine"}],
        [{"label": "No id"}],
        [{"id": "mine", "label": {"fr": "", "en": "Empty in French"}}],
        [{"id": "mine", "label": "One"}, {"id": "mine", "label": "Twice"}],
    ],
)
def test_an_exemption_the_app_cannot_use_stops_it(make_app, entries):
    instance = staff_instance()
    instance["exemptions"] = entries
    with pytest.raises(ConfigError, match="exemptions"):
        make_app(INSTANCE=instance)


def test_the_demo_instance_adds_an_exemption():
    demo = load_instance(str(DEMO_CONFIG))
    exemptions.check(demo["exemptions"])
    assert [entry["id"] for entry in demo["exemptions"]] == ["aml_indirect_access"]


# --- from the review: what must not pass ------------------------------------------------


def test_requests_about_different_matters_are_no_duplicates(app, client, staff_tokens):
    notice = {
        "mode": "death_notice",
        "requester_role": "heir",
        "deceased_name": "Paul Martin",
        "deceased_email": "paul@example.org",
        "date_of_death": "2026-10-01",
    }
    paul = new_case(app, "open", type_="post_mortem", details=notice)
    marie = new_case(
        app,
        "open",
        type_="post_mortem",
        details={**notice, "deceased_name": "Marie Martin", "deceased_email": "marie@example.org"},
    )
    token = staff_tokens["handler"]
    assert read(client, token, paul)["duplicates"] == []
    refused = api(client, token, marie, "merge", {"into": paul})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_a_duplicate"
    again = new_case(app, "open", type_="post_mortem", details=notice)
    assert [d["ref"] for d in read(client, token, paul)["duplicates"]] == [again]


@pytest.mark.parametrize(
    ("decision", "body"),
    [
        ("notes", {"text": "a\x00b"}),
        ("ask", {"message": "Which\x00 account?"}),
        ("close", {"reason": "By post\x00"}),
        ("extend", {"reason": "\x00"}),
    ],
)
def test_a_nul_character_is_refused_not_stored(app, client, staff_tokens, decision, body):
    ref = new_case(app, "open")
    response = api(client, staff_tokens["handler"], ref, decision, body)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == list(body)
    search = client.get("/api/v1/requests?q=a%00b", headers=bearer(staff_tokens["viewer"]))
    assert search.status_code == 422 and list(search.get_json()["error"]["fields"]) == ["q"]


def test_no_extension_while_the_person_is_asked(app, client, staff_tokens):
    ref = new_case(app, "awaiting_subject", due_in_days=20)
    response = api(client, staff_tokens["handler"], ref, "extend", {"reason": "Complex."})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "wrong_status"
