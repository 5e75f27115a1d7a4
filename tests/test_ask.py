"""Asking the person (Art. 12(6)): the handler's question from the case page or the API, the
email, the answer with files from the status page, the clock's pause added to the due date,
the reminder and the closing without an answer, and the roles."""

import io
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from conftest import csrf_token, links_in_outbox, outbox_messages
from dateutil.relativedelta import relativedelta
from fixtures_answers import by_ref, case_url, kinds
from fixtures_staff import bearer, english, new_case

from dsr import asking, periodic, retention, signing
from dsr.config import ConfigError
from dsr.extensions import db
from dsr.models import Document, Question
from dsr.models.types import utcnow
from dsr.signing import Purpose

PARIS = ZoneInfo("Europe/Paris")
PDF = b"%PDF-1.4\n% a copy of an identity card\n" + bytes(range(256)) * 20
QUESTION = "Please send us a copy of the invoice the charge appears on."


@pytest.fixture
def app(make_app):
    return make_app(DOCUMENT_MAX_BYTES=50_000)


def ask_api(client, token, ref, message=QUESTION):
    return client.post(
        f"/api/v1/requests/{ref}/ask", headers=bearer(token), json={"message": message}
    )


def status_url(app, ref: str) -> str:
    with app.app_context():
        return f"/status/{signing.sign(Purpose.STATUS, by_ref(ref).id)}"


def send_answer(client, status: str, text: str, files=(), *, token=None):
    data = {"csrf_token": token or csrf_token(client, status), "answer": text}
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"{status}/answer", data=data, content_type="multipart/form-data")


def question_of(app, ref: str) -> Question:
    with app.app_context():
        return asking.questions_of(by_ref(ref))[-1]


def move_back(app, ref: str, days: int, *, received_days: int | None = None) -> None:
    """As if the question was asked `days` ago (and the request received `received_days` ago)."""
    with app.app_context():
        req = by_ref(ref)
        question = asking.questions_of(req)[-1]
        question.asked_at -= timedelta(days=days)
        req.pauses[-1].started_at -= timedelta(days=days)
        if received_days is not None:
            req.received_at -= timedelta(days=received_days)
        db.session.commit()


def expected_due(received: datetime, paused: datetime, resumed: datetime) -> datetime:
    """One month after receipt (Regulation 1182/71), plus the whole days paused, moved to the
    next French working day; the end of that day in Paris, in UTC."""
    days = (resumed.astimezone(PARIS).date() - paused.astimezone(PARIS).date()).days
    day = received.astimezone(PARIS).date() + relativedelta(months=1) + timedelta(days=days)
    while day.weekday() >= 5 or day in holidays.France(years=day.year):
        day += timedelta(days=1)
    return datetime.combine(day, time(23, 59, 59), tzinfo=PARIS).astimezone(UTC)


def test_a_handler_asks_from_the_case_page_and_the_person_is_mailed_in_french(
    app, handler_client, run_jobs
):
    ref = new_case(app, "open")
    with app.app_context():
        by_ref(ref).language = "fr"
        db.session.commit()
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Ask the person" in page
    token = csrf_token(handler_client, case_url(ref))
    empty = handler_client.post(
        f"{case_url(ref)}/ask", data={"ask-csrf_token": token, "ask-message": "  "}
    )
    assert empty.status_code == 303 and by_status(app, ref) == "open"
    assert "Write the question for the person." in handler_client.get(case_url(ref)).get_data(
        as_text=True
    )
    asked = handler_client.post(
        f"{case_url(ref)}/ask", data={"ask-csrf_token": token, "ask-message": QUESTION}
    )
    assert asked.status_code == 303
    assert by_status(app, ref) == "awaiting_subject"
    question = question_of(app, ref)
    assert (question.message, question.from_status) == (QUESTION, "open")
    assert question.asked_by == "staff:handler@staff.example"
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert QUESTION in page and "Waiting for the answer; the clock is paused." in page
    assert "Clock paused" in page and "Ask the person</button>" not in page
    assert "question.asked" in kinds(app, ref)

    run_jobs()
    [mail] = [m for m in outbox_messages(app) if m["X-DSR-Template"] == "question"]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert mail["To"] == "alice@example.org" and mail["Content-Language"] == "fr"
    assert "Nous avons besoin d'informations" in mail["Subject"] and ref in mail["Subject"]
    assert QUESTION in body and "Bonjour Alice Martin" in body
    [link] = links_in_outbox(app, "/status/")
    assert english(app.test_client()).get(link.split("dsr.test", 1)[1]).status_code == 200


def by_status(app, ref: str) -> str:
    with app.app_context():
        return by_ref(ref).status


def test_the_api_asks_refuses_what_it_cannot_and_lists_the_questions(app, client, staff_tokens):
    ref = new_case(app, "review")
    handler, viewer = staff_tokens["handler"], staff_tokens["viewer"]
    refused = ask_api(client, viewer, ref)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    for body in ({}, {"message": "   "}, {"message": "x" * 4001}):
        invalid = client.post(f"/api/v1/requests/{ref}/ask", headers=bearer(handler), json=body)
        assert invalid.status_code == 422, body
        assert "message" in invalid.get_json()["error"]["fields"]
    assert ask_api(client, handler, "DSR-2000-000000").status_code == 404
    asked = ask_api(client, handler, ref)
    assert asked.status_code == 200 and asked.get_json()["status"] == "awaiting_subject"
    assert "question.asked" in [event["kind"] for event in asked.get_json()["events"]]
    again = ask_api(client, handler, ref)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_askable"
    closed = new_case(app, "completed", email="b@example.org")
    assert ask_api(client, handler, closed).get_json()["error"]["code"] == "not_askable"

    listed = client.get(f"/api/v1/requests/{ref}/questions", headers=bearer(viewer))
    [question] = listed.get_json()["questions"]
    assert question["message"] == QUESTION and question["from_status"] == "review"
    assert question["answered_at"] is None and question["files"] == []
    asked_at = datetime.fromisoformat(question["asked_at"])
    assert datetime.fromisoformat(question["expires_at"]) - asked_at == timedelta(days=30)


def test_no_question_while_the_answer_is_released(app, client, staff_tokens):
    ref = new_case(app, "review")
    with app.app_context():
        by_ref(ref).release_requested_at = utcnow()
        db.session.commit()
    refused = ask_api(client, staff_tokens["handler"], ref)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "release_in_progress"


def test_the_answer_with_a_file_brings_the_case_back_and_moves_the_due_date(
    app, client, staff_tokens, handler_client, viewer_client
):
    ref = new_case(app, "review")
    assert ask_api(client, staff_tokens["handler"], ref).status_code == 200
    move_back(app, ref, 10, received_days=20)
    with app.app_context():
        req = by_ref(ref)
        received, paused = req.received_at, req.pauses[-1].started_at
    status = status_url(app, ref)
    person = english(app.test_client())
    page = person.get(status).get_data(as_text=True)
    assert QUESTION in page and "Send my answer" in page

    answer = "Here is the invoice, and my identity card."
    sent = send_answer(person, status, answer, [("carte d'identité.pdf", PDF)])
    resumed = utcnow()
    assert sent.status_code == 303
    with app.app_context():
        req = by_ref(ref)
        question = asking.questions_of(req)[-1]
        assert req.status == "review" and req.pauses[-1].ended_at is not None
        assert question.answer == answer and question.answered_at is not None
        due = expected_due(received, paused, resumed)
        assert req.due_at == due
        assert (
            question.paused_days
            == (resumed.astimezone(PARIS).date() - paused.astimezone(PARIS).date()).days
        )
        [document] = asking.files_of(question)
        assert (document.filename, document.media_type) == (
            "carte d'identité.pdf",
            "application/pdf",
        )
    page = person.get(status).get_data(as_text=True)
    assert "We received your answer." in page and answer in page and "Send my answer" not in page

    api_due = client.get(f"/api/v1/requests/{ref}", headers=bearer(staff_tokens["viewer"]))
    assert datetime.fromisoformat(api_due.get_json()["due_at"]) == due
    queue = client.get("/api/v1/requests?status=review", headers=bearer(staff_tokens["viewer"]))
    [item] = [i for i in queue.get_json()["items"] if i["ref"] == ref]
    assert datetime.fromisoformat(item["due_at"]) == due

    case = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert answer in case and "carte d&#39;identité.pdf" in case and "The person answered" in case
    opened = handler_client.get(f"{case_url(ref)}/documents/{document.id}")
    assert opened.status_code == 200 and opened.get_data() == PDF
    viewed = viewer_client.get(case_url(ref)).get_data(as_text=True)
    assert answer in viewed and "Open the document" not in viewed
    events = kinds(app, ref)
    assert "question.answered" in events and "document.uploaded" in events


def test_an_answer_to_a_request_whose_work_finished_meanwhile_goes_to_review(
    app, client, staff_tokens
):
    ref = new_case(app, "processing")  # no task left to finish
    assert ask_api(client, staff_tokens["handler"], ref).status_code == 200
    person = english(app.test_client())
    assert send_answer(person, status_url(app, ref), "Done.").status_code == 303
    assert by_status(app, ref) == "review"


@pytest.mark.parametrize(
    ("text", "files", "code", "words"),
    [
        ("", [], 400, "Write your answer, or choose a file to send."),
        ("See attached.", [("virus.exe", b"MZ\x90\x00 an executable")], 415, "PDF file or a photo"),
        ("See attached.", [("a.pdf", PDF), ("big.pdf", PDF + b"x" * 60_000)], 413, "at most"),
        ("x" * 4001, [], 400, "4000 characters"),
    ],
)
def test_an_answer_not_taken_keeps_nothing_and_what_was_typed(
    app, client, staff_tokens, text, files, code, words
):
    ref = new_case(app, "open")
    assert ask_api(client, staff_tokens["handler"], ref).status_code == 200
    person = english(app.test_client())
    refused = send_answer(person, status_url(app, ref), text, files)
    page = refused.get_data(as_text=True)
    assert refused.status_code == code and words in page
    if text and len(text) < 100:
        assert f">{text}</textarea>" in page
    assert by_status(app, ref) == "awaiting_subject"
    with app.app_context():
        assert db.session.query(Document).count() == 0
    assert question_of(app, ref).is_open
    assert not list(Path(app.config["RESULTS_DIR"]).rglob("*.sealed"))


def test_an_answer_needs_its_form_and_an_open_question(app, client, staff_tokens):
    ref = new_case(app, "open")
    person = english(app.test_client())
    status = status_url(app, ref)
    token = csrf_token(person, status)
    assert "Send my answer" not in person.get(status).get_data(as_text=True)
    assert send_answer(person, status, "Hello?", token=token).status_code == 409
    assert ask_api(client, staff_tokens["handler"], ref).status_code == 200
    forged = person.post(f"{status}/answer", data={"answer": "Yes."})
    assert forged.status_code == 400 and by_status(app, ref) == "awaiting_subject"


def test_a_reminder_after_14_days_then_the_request_closes_after_30(
    app, client, staff_tokens, run_jobs
):
    ref = new_case(app, "open")
    assert ask_api(client, staff_tokens["handler"], ref).status_code == 200
    person = english(app.test_client())
    token = csrf_token(person, status_url(app, ref))
    with app.app_context():
        assert asking.follow_up(utcnow() + timedelta(days=13)) == {"reminded": 0, "expired": 0}
        assert asking.follow_up(utcnow() + timedelta(days=15)) == {"reminded": 1, "expired": 0}
        assert asking.follow_up(utcnow() + timedelta(days=16)) == {"reminded": 0, "expired": 0}
    run_jobs()
    [reminder] = [m for m in outbox_messages(app) if m["X-DSR-Template"] == "question_reminder"]
    body = reminder.get_body(preferencelist=("plain",)).get_content()
    assert QUESTION in body and "/status/" in body
    assert question_of(app, ref).reminded_at is not None

    with app.app_context():
        assert asking.follow_up(utcnow() + timedelta(days=31)) == {"reminded": 0, "expired": 1}
        req = by_ref(ref)
        assert req.status == "expired" and req.closed_at is not None
        assert asking.questions_of(req)[-1].expired_at is not None
    run_jobs()
    [closed] = [m for m in outbox_messages(app) if m["X-DSR-Template"] == "question_expired"]
    body = closed.get_body(preferencelist=("plain",)).get_content()
    assert "closed" in body and "supervisory authority" in body
    events = kinds(app, ref)
    assert "question.reminded" in events and "question.expired" in events
    page = english(app.test_client()).get(status_url(app, ref)).get_data(as_text=True)
    assert "we did not receive an answer to our question in time" in page
    late = send_answer(person, status_url(app, ref), "Too late?", token=token)
    assert late.status_code == 409


def test_the_hourly_job_closes_what_went_unanswered(app, client, staff_tokens):
    answered, silent = new_case(app, "open"), new_case(app, "open", email="b@example.org")
    for ref in (answered, silent):
        assert ask_api(client, staff_tokens["handler"], ref).status_code == 200
        move_back(app, ref, 31)
    person = english(app.test_client())
    assert send_answer(person, status_url(app, answered), "Here it is.").status_code == 303
    with app.app_context():
        assert periodic.follow_up_questions_job() == {"reminded": 0, "expired": 1}
    assert (by_status(app, answered), by_status(app, silent)) == ("open", "expired")
    assert (periodic.follow_up_questions_job, 3600) in periodic.PERIODIC_JOBS


def test_a_viewer_can_neither_ask_nor_see_the_form(app, viewer_client, staff_tokens, client):
    ref = new_case(app, "open")
    page = viewer_client.get(case_url(ref)).get_data(as_text=True)
    assert "Ask the person" not in page
    token = csrf_token(viewer_client, case_url(ref))
    refused = viewer_client.post(
        f"{case_url(ref)}/ask", data={"ask-csrf_token": token, "ask-message": QUESTION}
    )
    assert refused.status_code == 403
    assert ask_api(client, staff_tokens["viewer"], ref).status_code == 403
    assert by_status(app, ref) == "open"


def test_the_expiry_comes_after_the_reminder(make_app):
    with pytest.raises(ConfigError, match="ASK_EXPIRY_DAYS"):
        make_app(ASK_REMINDER_DAYS=14, ASK_EXPIRY_DAYS=14)


def test_anonymisation_empties_the_question_and_the_answer(app, client, staff_tokens):
    ref = new_case(app, "open")
    assert ask_api(client, staff_tokens["handler"], ref).status_code == 200
    assert (
        send_answer(english(app.test_client()), status_url(app, ref), "My address.").status_code
        == 303
    )
    with app.app_context():
        retention.anonymise(by_ref(ref), utcnow())
        db.session.commit()
    question = question_of(app, ref)
    assert (question.message, question.answer) == ("", None)
