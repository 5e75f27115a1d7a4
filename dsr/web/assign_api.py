"""The staff API's assignment of a case (`dsr.assignment`), as on the case page:

    POST /api/v1/requests/<ref>/assign   {"email": "handler@example.org"}
                                         {"email": null}: assigned to nobody

200 with the request (as `GET /api/v1/requests/<ref>`, its `assignee` the
email or null); 422 when the address is not that of an active handler or
administrator. Handler role and above.
"""

from flask import g, jsonify
from marshmallow import Schema

from dsr import assignment
from dsr.extensions import db
from dsr.release import answer
from dsr.web import schemas
from dsr.web.api import ApiError, load_body
from dsr.web.apidoc import NOT_FOUND, documented
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, bp, detail, request_or_404
from workflows.fields import Text


class Assignment(Schema):
    email = Text(254, required=True, allow_none=True)


@bp.post("/requests/<ref>/assign")
@documented(
    "assignRequest",
    "Assign a case to a handler or admin, or to nobody (staff: handler and above)",
    "`email`: an active handler's or administrator's address, or null for nobody. The "
    "request's `assignee` says who has it; each change is an audit event.",
    body=Assignment,
    responses={
        200: ("Assigned; the request.", schemas.RequestDetail),
        404: NOT_FOUND,
        422: "Not the address of an active handler or administrator, or a wrong body "
        "(`validation_error`).",
    },
)
@token_required(HANDLER)
def assign(ref: str):
    """Assign the case to an active handler or admin, or to nobody."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    email = load_body(Assignment())["email"]
    try:
        user = assignment.assignee_for(email) if email is not None else None
    except assignment.AssignmentError as exc:
        db.session.rollback()
        raise ApiError(422, "validation_error", str(exc), {"email": [str(exc)]}) from exc
    assignment.assign(req, user, actor=g.api_user.actor)
    db.session.commit()
    return jsonify(detail(req)), 200
