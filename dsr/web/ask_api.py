"""The staff API's questions to the person (Art. 12(6), `dsr.asking`), as on the case page:

POST /api/v1/requests/<ref>/ask        {"message": "..."}: the request waits for the
     person (`awaiting_subject`, clock paused); 200 with the request; 409
     `not_askable` (not open, processing or review) or `release_in_progress`; 422
GET  /api/v1/requests/<ref>/questions  the questions, their answers and files
"""

from flask import g, jsonify
from marshmallow import Schema

from dsr import asking
from dsr.extensions import db
from dsr.release import answer
from dsr.web import schemas
from dsr.web.api import ApiError, load_body
from dsr.web.apidoc import NOT_FOUND, documented
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, VIEWER, bp, detail, request_or_404
from workflows.fields import Text


class AskBody(Schema):
    message = Text(asking.TEXT_LIMIT, required=True, multiline=True)


@bp.post("/requests/<ref>/ask")
@documented(
    "askSubject",
    "Ask the person for information or a document (staff: handler and above)",
    "Art. 12(6): from `open`, `processing` or `review`, the request becomes "
    "`awaiting_subject` and its clock stops; the person is mailed the message and their "
    "status link, where they answer (a message and PDF, PNG or JPEG files). The answer "
    "brings the request back to the status it came from and moves `due_at` by the days "
    "paused. `ASK_REMINDER_DAYS` without an answer, a reminder; `ASK_EXPIRY_DAYS`, the "
    "request is closed `expired`.",
    body=AskBody,
    responses={
        200: ("Asked; the request.", schemas.RequestDetail),
        404: NOT_FOUND,
        409: "Not open, processing or in review (`not_askable`), or the answer is being "
        "released (`release_in_progress`).",
    },
)
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


@bp.get("/requests/<ref>/questions")
@documented(
    "listQuestions",
    "The questions asked to the person, with their answers (staff: viewer and above)",
    "Oldest first; the files are opened on the case page (handlers).",
    responses={200: ("The questions.", schemas.Questions), 404: NOT_FOUND},
)
@token_required(VIEWER)
def questions(ref: str):
    req = request_or_404(ref)
    return jsonify(schemas.QUESTIONS.dump({"ref": req.ref, "questions": asking.questions_of(req)}))
