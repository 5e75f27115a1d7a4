"""The staff API's questions to the person (Art. 12(6), `dsr.asking`), as on the case page:

POST /api/v1/requests/<ref>/ask        {"message": "..."}: the request waits for the
     person (`awaiting_subject`, clock paused); 200 with the request; 409
     `not_askable` (not open, processing or review) or `release_in_progress`; 422
GET  /api/v1/requests/<ref>/questions  the questions, their answers and files
"""

from flask import g, jsonify
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, validate
from marshmallow import fields as f

from dsr import asking
from dsr.extensions import db
from dsr.models import Document, Question
from dsr.release import answer
from dsr.web.api import ApiError, load_body
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, VIEWER, bp, detail, iso_or_none, request_or_404


def not_blank(text: str) -> None:
    if not text.strip():
        raise ValidationError(_("Write the question for the person."))


class AskBody(Schema):
    message = f.String(
        required=True,
        validate=[validate.Length(min=1, max=asking.TEXT_LIMIT), not_blank],
    )


@bp.post("/requests/<ref>/ask")
@token_required(HANDLER)
def ask(ref: str):
    """Ask the person for information or a document; they are mailed the message."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(AskBody())
    try:
        asking.ask(req, body["message"], actor=g.api_user.actor)
    except asking.AskRefused as exc:
        db.session.rollback()
        raise ApiError(409, exc.code, str(exc)) from exc
    db.session.commit()
    return jsonify(detail(req)), 200


def file_json(document: Document) -> dict:
    return {
        "id": document.id,
        "filename": document.filename,
        "media_type": document.media_type,
        "size": document.size,
        "created_at": iso_or_none(document.created_at),
    }


def question_json(question: Question) -> dict:
    return {
        "id": question.id,
        "message": question.message,
        "asked_by": question.asked_by,
        "asked_at": iso_or_none(question.asked_at),
        "from_status": question.from_status,
        "reminded_at": iso_or_none(question.reminded_at),
        "expires_at": iso_or_none(asking.expires_on(question)),
        "answered_at": iso_or_none(question.answered_at),
        "answer": question.answer,
        "files": [file_json(document) for document in asking.files_of(question)],
        "expired_at": iso_or_none(question.expired_at),
        "paused_days": question.paused_days,
    }


@bp.get("/requests/<ref>/questions")
@token_required(VIEWER)
def questions(ref: str):
    req = request_or_404(ref)
    return jsonify(ref=req.ref, questions=[question_json(q) for q in asking.questions_of(req)])
