"""Asking the person for information or a document (GDPR Art. 12(6)), their answer, and
what happens when none comes.

- `ask`: a handler's question, from `open`, `processing` or `review`. The request moves to
  `awaiting_subject`, which stops the clock (`operations.transition_to` opens a
  `ClockPause`); the question keeps the status it came from; the person is mailed the
  question and their status link (`question`).
- `answer`: the person's message and files from the status page (the files through
  `documents.store`: PDF, PNG or JPEG by content, size-limited, sealed). The request goes
  back to the status it came from; the pause ends and `due_at` moves by the days it
  lasted, which the question keeps (`paused_days`).
- `follow_up` (hourly, `dsr.periodic`): `ASK_REMINDER_DAYS` after the question without an
  answer, a reminder (`question_reminder`); `ASK_EXPIRY_DAYS` after it, the request is
  closed `expired` and the person told (`question_expired`).

Each step is an audit event; none holds the texts, which stay on the question row (emptied
when the request is anonymised, `dsr.retention`). Callers hold the request's row lock
(`release.answer.locked`) and commit; emails leave once the commit is done.
"""

from datetime import datetime, timedelta
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from dsr import after_commit, audit, deadlines, documents, mail, notify
from dsr.extensions import db
from dsr.models import DataRequest, Document, Question
from dsr.models.types import utcnow
from dsr.operations import controller_settings, transition_to
from dsr.processing import finish_if_done
from dsr.release import answer as release
from dsr.status import RequestStatus
from workflows.fields import CONTROL, forbidden_characters

S = RequestStatus
#: where a question may be asked from, and so where an answer brings the request back to
ASKABLE = frozenset({S.OPEN, S.PROCESSING, S.REVIEW})
#: the longest question or answer
TEXT_LIMIT = 4000
#: the most files one answer may bring (each also counts towards `documents.MAX_DOCUMENTS`)
ANSWER_FILES = 5
#: what the files sent with an answer are, among `documents.KINDS`
ANSWER_KIND = "other"


class AskRefused(Exception):
    """A question that cannot be asked now; `code` is the API's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class AnswerRefused(Exception):
    """An answer that is not taken; the message says why, `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def questions_of(request: DataRequest) -> list[Question]:
    """The request's questions, oldest first."""
    query = select(Question).where(Question.request_id == request.id).order_by(Question.id)
    return list(db.session.scalars(query))


def files_of(question: Question) -> list[Document]:
    query = select(Document).where(Document.question_id == question.id).order_by(Document.id)
    return list(db.session.scalars(query))


def open_question(request: DataRequest) -> Question | None:
    """The question the request waits on: its latest, while it is `awaiting_subject`."""
    if request.status != S.AWAITING_SUBJECT:
        return None
    latest = db.session.scalars(
        select(Question).where(Question.request_id == request.id).order_by(Question.id.desc())
    ).first()
    return latest if latest is not None and latest.is_open else None


def expired_unanswered(request: DataRequest) -> bool:
    """Whether the request was closed because a question went unanswered."""
    return request.status == S.EXPIRED and any(q.expired_at for q in questions_of(request))


def reminder_on(question: Question) -> datetime:
    return question.asked_at + timedelta(days=current_app.config["ASK_REMINDER_DAYS"])


def expires_on(question: Question) -> datetime:
    """When the request closes if the question is still unanswered."""
    return question.asked_at + timedelta(days=current_app.config["ASK_EXPIRY_DAYS"])


def refusal(request: DataRequest) -> AskRefused | None:
    """Why a question cannot be asked now, or None if it can."""
    if request.status_enum not in ASKABLE:
        return AskRefused(
            "not_askable",
            _(
                "A question can be asked only while the request is open, being processed or "
                "in review; this one is not."
            ),
        )
    if release.release_in_progress(request):
        return AskRefused(
            "release_in_progress", _("The answer is being released: it is too late to ask.")
        )
    return None


def ask(request: DataRequest, message: str, *, actor: str) -> Question:
    """Ask the person; the request waits for them, its clock stopped. AskRefused if not now."""
    refused = refusal(request)
    if refused is not None:
        raise refused
    question = Question(
        request_id=request.id,
        message=message.strip(),
        asked_by=actor,
        asked_at=utcnow(),
        from_status=request.status,
    )
    db.session.add(question)
    transition_to(request, S.AWAITING_SUBJECT, actor=actor, reason="a question to the person")
    db.session.flush()
    audit.record(
        "question.asked",
        actor=actor,
        request_id=request.id,
        data={"question": question.id, "expires_on": expires_on(question).isoformat()},
    )
    tell(request, "question", question)
    return question


def tell(request: DataRequest, template: str, question: Question) -> None:
    """Mail the person about `question` once the caller's transaction commits."""
    after_commit.later(
        mail.send_later,
        request.id,
        template,
        message=question.message,
        asked_at=question.asked_at,
        expires_on=expires_on(question),
        status_url=notify.status_url(request),
    )


def check_answer(text: str, uploads: list) -> str:
    text = (text or "").strip()
    if not text and not uploads:
        raise AnswerRefused(_("Write your answer, or choose a file to send."))
    if forbidden_characters(text, multiline=True):
        raise AnswerRefused(str(CONTROL))
    if len(text) > TEXT_LIMIT:
        raise AnswerRefused(
            _("Your answer may be %(limit)d characters long at most.", limit=TEXT_LIMIT)
        )
    if len(uploads) > ANSWER_FILES:
        raise AnswerRefused(_("Send at most %(number)d files at once.", number=ANSWER_FILES), 413)
    return text


def answer(
    request: DataRequest, text: str, uploads: list[tuple[BinaryIO, str]], *, actor: str = "subject"
) -> Question:
    """The person's answer: message and files (`(stream, filename)`); the request goes back
    where it was and its due date moves by the days paused. AnswerRefused when there is no
    open question or the answer is empty; DocumentRefused for a file (nothing is kept)."""
    question = open_question(request)
    if question is None:
        raise AnswerRefused(_("We are not waiting for an answer from you on this request."), 409)
    text = check_answer(text, uploads)
    stored = []
    try:
        for stream, filename in uploads:
            stored.append(
                documents.store(request, ANSWER_KIND, stream, filename, question=question)
            )
    except documents.DocumentRefused:
        for document in stored:  # sealed in place already: the rollback does not remove them
            documents.path_of(document, request.ref).unlink(missing_ok=True)
        raise
    question.answered_at, question.answer = utcnow(), text or None
    back = RequestStatus(question.from_status)
    transition_to(request, back, actor=actor, reason="the person answered")
    question.paused_days = last_pause_days(request)
    audit.record(
        "question.answered",
        actor=actor,
        request_id=request.id,
        data={
            "question": question.id,
            "documents": len(stored),
            "paused_days": question.paused_days,
            "due_at": request.effective_due_at.isoformat(),
        },
    )
    if back is S.PROCESSING:
        finish_if_done(request)  # its tasks may all have finished while it waited
    return question


def last_pause_days(request: DataRequest) -> int:
    """The whole days the request's last (ended) pause added to its due date."""
    pause = request.pauses[-1]
    _country, tz = controller_settings()
    return deadlines.paused_days([(pause.started_at, pause.ended_at)], pause.ended_at, tz)


def follow_up(now: datetime | None = None) -> dict[str, int]:
    """Remind the people who have not answered for `ASK_REMINDER_DAYS`, and close the
    requests whose question is unanswered after `ASK_EXPIRY_DAYS`; commits each."""
    now = now or utcnow()
    remind_before = now - timedelta(days=current_app.config["ASK_REMINDER_DAYS"])
    due = db.session.scalars(
        select(Question.request_id)
        .join(DataRequest, DataRequest.id == Question.request_id)
        .where(
            DataRequest.status == S.AWAITING_SUBJECT,
            Question.answered_at.is_(None),
            Question.expired_at.is_(None),
            Question.asked_at <= remind_before,
        )
        .order_by(Question.id)
    ).all()
    done = {"reminded": 0, "expired": 0}
    for request_id in due:
        request = release.locked(request_id)  # an answer may be arriving
        question = open_question(request)
        if question is not None and expires_on(question) <= now:
            expire(request, question, now)
            done["expired"] += 1
        elif question is not None and question.reminded_at is None:
            remind(request, question, now)
            done["reminded"] += 1
        db.session.commit()
    return done


def remind(request: DataRequest, question: Question, now: datetime) -> None:
    question.reminded_at = now
    audit.record(
        "question.reminded", actor="system", request_id=request.id, data={"question": question.id}
    )
    tell(request, "question_reminder", question)


def expire(request: DataRequest, question: Question, now: datetime) -> None:
    """No answer in time: the request closes `expired` and the person is told."""
    question.expired_at = now
    days = current_app.config["ASK_EXPIRY_DAYS"]
    transition_to(
        request, S.EXPIRED, actor="system", reason=f"no answer to the question within {days} days"
    )
    question.paused_days = last_pause_days(request)
    audit.record(
        "question.expired", actor="system", request_id=request.id, data={"question": question.id}
    )
    tell(request, "question_expired", question)
