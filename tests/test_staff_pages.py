"""The staff pages: who may see and do what, the queue, and the case page with its tasks."""

import re

import pytest
from conftest import csrf_token
from fixtures_staff import english, get_request, new_case, staff_instance
from sqlalchemy import select

from dsr import processing, results
from dsr.extensions import db
from dsr.models import AuditEvent, Task
from dsr.models.task import TaskStatus as T
from dsr.status import RequestStatus as S

REF = re.compile(r">(DSR-\d{4}-\d{6})</a>")


@pytest.fixture
def app(make_app):
    return make_app(INSTANCE=staff_instance())


def text(response) -> str:
    return response.get_data(as_text=True)


def queue_refs(client, query: str = "") -> list[str]:
    """The references the queue lists, in order."""
    response = client.get("/staff/" + query)
    assert response.status_code == 200, text(response)[:300]
    body = text(response)
    table = body[body.find("<tbody>") : body.find("</tbody>")] if "<tbody>" in body else ""
    return REF.findall(table)


def post(client, url: str, data: dict | None = None, page: str = "/staff/"):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **(data or {})})


def task_of(app, ref: str, connector: str) -> Task:
    return next(t for t in get_request(app, ref).tasks if t.connector == connector)


def started_case(app, run_jobs) -> str:
    """An open request started by a handler, its jobs run: `archive` waits, `broken` failed."""
    ref = new_case(app)
    with app.app_context():
        processing.start(db.session.scalars(select_ref(ref)).one(), actor="staff:test")
    run_jobs()
    return ref


def select_ref(ref: str):
    from dsr.models import DataRequest

    return select(DataRequest).where(DataRequest.ref == ref)


# --- who may do what ------------------------------------------------------


@pytest.mark.parametrize("path", ["/staff/", "/staff/requests/{ref}"])
def test_anonymous_pages_lead_to_login(app, path):
    url = path.format(ref=new_case(app))
    response = english(app.test_client()).get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=/staff/")


@pytest.mark.parametrize("role", ["viewer", "handler", "admin"])
@pytest.mark.parametrize("path", ["/staff/", "/staff/requests/{ref}"])
def test_every_role_reads(app, staff_client, role, path):
    url = path.format(ref=new_case(app))
    assert staff_client(role).get(url).status_code == 200


@pytest.mark.parametrize(
    "action",
    ["/staff/requests/{ref}/start", "/staff/tasks/{task}/retry", "/staff/tasks/{task}/outcome"],
)
def test_actions_need_a_handler(app, run_jobs, staff_client, action):
    ref = started_case(app, run_jobs)
    url = action.format(ref=ref, task=task_of(app, ref, "broken").id)
    anonymous = english(app.test_client())
    response = post(anonymous, url, page="/staff/login")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/login"
    viewer = staff_client("viewer")
    assert post(viewer, url, {"result": "succeeded", "note": "x"}).status_code == 403
    assert get_request(app, ref).status == S.PROCESSING
    assert task_of(app, ref, "broken").status == T.FAILED


def test_viewer_sees_no_action_buttons(app, run_jobs, viewer_client):
    open_ref, started = new_case(app), started_case(app, run_jobs)
    assert "Start processing" not in text(viewer_client.get(f"/staff/requests/{open_ref}"))
    page = text(viewer_client.get(f"/staff/requests/{started}"))
    assert "Retry" not in page and "Record the outcome" not in page


def test_action_without_csrf_is_refused(app, handler_client):
    ref = new_case(app)
    response = handler_client.post(f"/staff/requests/{ref}/start")
    assert response.status_code == 400
    assert get_request(app, ref).status == S.OPEN


def test_staff_pages_are_not_cached_nor_framed(app, viewer_client):
    response = viewer_client.get("/staff/")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


# --- the queue ------------------------------------------------------------


def test_queue_sorts_by_deadline_and_says_how_far(app, viewer_client):
    later = new_case(app, due_in_days=12)
    overdue = new_case(app, due_in_days=-3)
    today = new_case(app, due_in_days=0)
    soon = new_case(app, "processing", due_in_days=1)
    assert queue_refs(viewer_client) == [overdue, today, soon, later]
    page = text(viewer_client.get("/staff/"))
    assert "Overdue by 3 days" in page and "deadline-overdue" in page
    assert "Due today" in page and "1 day left" in page and "12 days left" in page


def test_queue_uses_the_extended_deadline(app, viewer_client):
    extended = new_case(app, due_in_days=-2)
    plain = new_case(app, due_in_days=5)
    with app.app_context():
        req = db.session.scalars(select_ref(extended)).one()
        req.extended_due_at = req.due_at.replace(year=req.due_at.year + 1)
        db.session.commit()
    assert queue_refs(viewer_client) == [plain, extended]
    assert "Overdue by" not in text(viewer_client.get("/staff/"))


def test_queue_shows_what_is_not_closed_by_default(app, viewer_client):
    shown = [
        new_case(app, status) for status in ("unverified", "open", "review", "awaiting_subject")
    ]
    hidden = [new_case(app, status) for status in ("withdrawn", "rejected", "completed", "expired")]
    assert sorted(queue_refs(viewer_client)) == sorted(shown)
    assert sorted(queue_refs(viewer_client, "?status=all")) == sorted(shown + hidden)
    assert queue_refs(viewer_client, "?status=withdrawn") == [hidden[0]]
    assert "Clock paused" in text(viewer_client.get("/staff/?status=awaiting_subject"))


def test_queue_filters_by_type_and_overdue(app, viewer_client):
    late_access = new_case(app, due_in_days=-1)
    erasure = new_case(app, type_="erasure", due_in_days=4, details={"ground": "consent_withdrawn"})
    paused_late = new_case(app, "awaiting_subject", due_in_days=-9)
    assert queue_refs(viewer_client, "?type=erasure") == [erasure]
    assert queue_refs(viewer_client, "?overdue=true") == [late_access]
    assert queue_refs(viewer_client, "?overdue=false") == [paused_late, erasure]
    assert queue_refs(viewer_client, "?type=access&overdue=true") == [late_access]


def test_queue_pages_by_25(app, viewer_client):
    refs = [new_case(app, due_in_days=day) for day in range(27)]
    assert queue_refs(viewer_client) == refs[:25]
    first = text(viewer_client.get("/staff/"))
    assert "27 requests" in first and "page 1 of 2" in first
    assert 'href="/staff/?page=2"' in first
    assert queue_refs(viewer_client, "?page=2") == refs[25:]
    assert queue_refs(viewer_client, "?page=3") == []
    second = text(viewer_client.get("/staff/?status=open&page=2"))
    assert "/staff/?status=open&amp;page=1" in second


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?status=lost", "Use one of: all, unverified"),
        ("?type=complaint", "Use one of: access"),
        ("?overdue=maybe", "Use true or false."),
        ("?page=0", "Use a whole number from 1"),
        ("?page=two", "Use a whole number from 1"),
    ],
)
def test_queue_bad_filters_say_what_to_fix(app, viewer_client, query, message):
    new_case(app)
    response = viewer_client.get("/staff/" + query)
    assert response.status_code == 400
    assert message in text(response)
    assert "Traceback" not in text(response)
    assert '<option value="withdrawn"' in text(response)  # the form is whole, to fix it


# --- the case page --------------------------------------------------------


def test_case_page_shows_the_request(app, viewer_client):
    ref = new_case(app, due_in_days=6, details={"note": "Mostly my <b>trips</b>."})
    page = text(viewer_client.get(f"/staff/requests/{ref}"))
    for expected in (
        ref,
        "Access my data",
        "Alice Martin",
        "alice@example.org",
        "+33612345678",
        "6 days left",
        "Mostly my &lt;b&gt;trips&lt;/b&gt;.",
        "Anything you want to add",
        "No tasks yet",
    ):
        assert expected in page, expected
    assert "<b>trips</b>" not in page


def test_case_page_timeline_in_plain_words(app, viewer_client):
    ref = new_case(app, "awaiting_subject")
    page = text(viewer_client.get(f"/staff/requests/{ref}"))
    assert "Request received" in page and "Status changed" in page
    assert "Unverified (email not confirmed) → Open (email address confirmed)" in page
    assert "Open → Awaiting the subject" in page
    assert page.count("<td>system</td>") == 1 and page.count("<td>subject</td>") == 2


def test_unknown_reference_is_404(app, viewer_client):
    assert viewer_client.get("/staff/requests/DSR-2000-000001").status_code == 404


def test_handler_starts_processing(app, run_jobs, handler_client):
    ref = new_case(app)
    assert "Start processing" in text(handler_client.get(f"/staff/requests/{ref}"))
    response = post(handler_client, f"/staff/requests/{ref}/start", page=f"/staff/requests/{ref}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/requests/{ref}#tasks"
    req = get_request(app, ref)
    assert req.status == S.PROCESSING
    assert sorted(t.connector for t in req.tasks) == ["archive", "broken"]
    page = text(handler_client.get(response.headers["Location"]))
    assert "Processing started." in page
    assert "Paper archive" in page and "Old CRM" in page and "Collect the data" in page
    with app.app_context():
        started = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "status.changed").order_by(AuditEvent.id)
        ).all()[-1]
        assert started.actor == "staff:handler@staff.example"


def test_start_twice_says_why_not(app, handler_client):
    ref = new_case(app, "processing")
    response = post(handler_client, f"/staff/requests/{ref}/start")
    assert response.status_code == 303
    page = text(handler_client.get(response.headers["Location"]))
    assert "Processing starts only from an open request" in page
    assert get_request(app, ref).tasks == []


def test_failed_task_retried_by_a_handler(app, run_jobs, handler_client):
    ref = started_case(app, run_jobs)
    failed = task_of(app, ref, "broken")
    assert failed.status == T.FAILED
    page = text(handler_client.get(f"/staff/requests/{ref}"))
    assert "Failed" in page and "Retry" in page
    assert failed.last_error in page
    response = post(handler_client, f"/staff/tasks/{failed.id}/retry")
    assert response.status_code == 303
    assert task_of(app, ref, "broken").status == T.QUEUED
    assert "The task is queued again." in text(handler_client.get(response.headers["Location"]))
    again = post(handler_client, f"/staff/tasks/{failed.id}/retry")
    assert "The task was not retried" in text(handler_client.get(again.headers["Location"]))


def test_manual_outcome_recorded_by_a_handler(app, run_jobs, handler_client):
    ref = started_case(app, run_jobs)
    waiting = task_of(app, ref, "archive")
    assert waiting.status == T.WAITING_CALLBACK
    page = text(handler_client.get(f"/staff/requests/{ref}"))
    assert f'id="outcome-{waiting.id}"' in page and "Waiting for an answer" in page
    prefix = waiting.id
    empty = post(handler_client, f"/staff/tasks/{prefix}/outcome", {f"{prefix}-note": ""})
    shown = text(handler_client.get(empty.headers["Location"]))
    assert "Choose a result." in shown and "Say what was done" in shown
    assert task_of(app, ref, "archive").status == T.WAITING_CALLBACK

    data = {f"{prefix}-result": "succeeded", f"{prefix}-note": "No file in the archive."}
    response = post(handler_client, f"/staff/tasks/{prefix}/outcome", data)
    assert "Outcome recorded." in text(handler_client.get(response.headers["Location"]))
    done = task_of(app, ref, "archive")
    assert (done.status, done.outcome) == (T.SUCCEEDED, "No file in the archive.")
    assert get_request(app, ref).status == S.REVIEW  # broken failed, archive done: all finished


def test_outcome_refused_for_a_task_not_waiting(app, run_jobs, handler_client):
    ref = started_case(app, run_jobs)
    failed = task_of(app, ref, "broken")
    data = {f"{failed.id}-result": "failed", f"{failed.id}-note": "tried"}
    response = post(handler_client, f"/staff/tasks/{failed.id}/outcome", data)
    assert "The outcome was not recorded" in text(handler_client.get(response.headers["Location"]))


def test_preview_shows_the_first_records_escaped(app, run_jobs, viewer_client):
    ref = started_case(app, run_jobs)
    with app.app_context():
        task = db.session.get(Task, task_of(app, ref, "archive").id)
        with results.writer(task) as sink:
            for number in range(7):
                sink.write("letters", {"number": number, "text": f"<script>x{number}</script>"})
            sink.write("boxes", {"shelf": "B4", "tags": ["old", "paper"]})
            counts = sink.commit()
        processing.succeed(task, counts, "7 letters", actor="connector:archive")
    page = text(viewer_client.get(f"/staff/requests/{ref}"))
    assert "What the systems returned" in page
    assert "letters — 7 records, the first 5 shown" in page
    assert "&lt;script&gt;x4&lt;/script&gt;" in page and "&lt;script&gt;x5" not in page
    assert "<script>" not in page
    assert "boxes — 1 record" in page and "<td>old, paper</td>" in page
