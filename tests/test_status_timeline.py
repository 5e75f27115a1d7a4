"""The status page's history in plain words, and times with their zone everywhere."""

import copy
import re
from datetime import UTC, datetime

import pytest

from dsr import audit
from dsr.config import DEMO_CONFIG, load_instance
from dsr.extensions import db
from dsr.models import AuditEvent, DataRequest
from dsr.status import RequestStatus as S
from dsr.templating import localdatetime
from dsr.web.subject_timeline import timeline
from tests.test_subject_links import create, english, move, status_path, text


def demo_instance(**controller) -> dict:
    instance = copy.deepcopy(load_instance(str(DEMO_CONFIG)))
    instance["processing"]["auto_start"] = []
    instance["controller"].update(controller)
    return instance


@pytest.fixture
def app(make_app):
    return make_app(INSTANCE=demo_instance())


def record(app, request_id: int, kind: str, actor: str = "system", **data) -> None:
    with app.app_context():
        audit.record(kind, actor=actor, request_id=request_id, data=data)
        db.session.commit()


def history(page: str) -> list[str]:
    """The sentences of the status page's history, in order."""
    section = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    items = re.findall(r"<li>.*?</time>\s*(.*?)</li>", section, re.S)
    return [item.strip() for item in items]


def test_history_in_plain_words_without_repeats(app):
    request_id = create(app)
    move(app, request_id, S.PROCESSING)
    record(app, request_id, "mail.sent", template="confirmed")
    record(app, request_id, "processing.planned", tasks=3)
    for connector in ("crm", "billing", "sms"):
        record(app, request_id, "task.succeeded", actor=f"connector:{connector}")
    record(app, request_id, "decision.change", index=0, accepted=True)
    record(app, request_id, "staff.note", actor="staff:bob@corp.example", text="call her")
    move(app, request_id, S.WITHDRAWN)
    for connector in ("crm", "billing"):
        record(app, request_id, "task.cancelled", connector=connector)
    record(app, request_id, "export.downloaded", actor="staff:bob@corp.example")
    record(app, request_id, "mail.sent", template="withdrawn")
    record(app, request_id, "mail.sent", template="a_template_added_later")

    page = text(english(app.test_client()).get(status_path(app, request_id)))
    assert history(page) == [
        "We received your request.",
        "You confirmed your email address; your request is in our queue.",
        "We started the work in our systems.",
        "We emailed you the confirmation of your request, with the link to this page.",
        "You withdrew your request.",
        "We stopped the work that was under way in our systems.",  # twice, read once
        "We emailed you the confirmation of the withdrawal.",
        "We sent you an email.",
    ]
    assert "Case updated" not in page and "call her" not in page


def test_only_the_persons_own_downloads_are_theirs(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        events = [
            AuditEvent(kind="export.downloaded", actor="staff:bob@corp.example", data={}),
            AuditEvent(kind="export.downloaded", actor="subject", data={}),
            AuditEvent(kind="mail.sent", actor="system", data={"to": "recipient"}),
        ]
        for n, event in enumerate(events):
            event.created_at = datetime(2026, 11, 27, 17, n, tzinfo=UTC)
        lines = [sentence for _instant, sentence in timeline(events)]
    assert lines == [
        "You downloaded our answer.",
        "We emailed the organisation you named a link to your data.",
    ]


def status_page_at(app, received: datetime) -> str:
    request_id = create(app)
    with app.app_context():
        req = db.session.get(DataRequest, request_id)
        req.received_at = received
        for event in audit.events_for(request_id):
            event.created_at = received
        db.session.commit()
    return text(english(app.test_client()).get(status_path(app, request_id)))


def test_times_carry_the_controllers_zone(app):
    page = status_page_at(app, datetime(2026, 11, 27, 17, 5, tzinfo=UTC))
    assert "Nov 27, 2026, 6:05\u202fPM CET" in page  # Europe/Paris in winter
    assert "Times are shown in the Europe/Paris time zone." in page
    summer = status_page_at(app, datetime(2026, 7, 1, 8, 30, tzinfo=UTC))
    assert "Jul 1, 2026, 10:30\u202fAM CEST" in summer


def test_times_are_utc_when_the_instance_names_no_zone(make_app):
    instance = demo_instance()
    del instance["controller"]["timezone"]
    app = make_app(INSTANCE=instance)
    page = status_page_at(app, datetime(2026, 11, 27, 17, 5, tzinfo=UTC))
    assert "Nov 27, 2026, 5:05\u202fPM UTC" in page
    assert "Times are shown in UTC." in page


def test_times_in_french(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert localdatetime(datetime(2026, 11, 27, 17, 5, tzinfo=UTC)) == "27 nov. 2026, 18:05 CET"
