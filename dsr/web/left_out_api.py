"""The staff API's left-out entries, as on the case page: what a handler keeps out of the
answer (Art. 15(4): the rights of others), listed, added and put back.

`GET /api/v1/requests/<ref>/left-out`, `POST` (201) and `DELETE .../left-out/<n>`,
each answering the request's entries. Entries and records are numbered from 1,
as the page shows them (`dsr.release.review` stores records from 0, as the pack
names them). Handler role, even to read: the entries name the person's tables
and records, which a viewer does not see.
"""

from flask import g, jsonify
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from dsr.extensions import db
from dsr.release import answer, review
from dsr.web import schemas
from dsr.web.api import ApiError, load_body
from dsr.web.apidoc import NOT_FOUND, documented
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, bp, request_or_404
from workflows.fields import StrictSchema, Text

RECORD_NUMBER = _l("The record number is a whole number from 1.")


class NewLeftOut(StrictSchema):
    """What to leave out: a table, or one record of it (`record`, from 1), and why."""

    connector = Text(64, required=True)
    table = Text(200, required=True)
    record = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, error=RECORD_NUMBER),
        error_messages={"invalid": RECORD_NUMBER},
    )
    reason = Text(review.REASON_LIMIT, required=True)


_schema = NewLeftOut()


def refused(exc: review.ReviewError) -> ApiError:
    """409 when nothing may change now; 422 when this change names nothing or is made."""
    if isinstance(exc, review.NotEditable):
        return ApiError(409, exc.code, str(exc))
    return ApiError(422, "validation_error", str(exc), {"_schema": [str(exc)]})


LEFT_OUT_REFUSED = (
    "Not in review (`not_in_review`), or the release is under way (`release_in_progress`)."
)


@bp.get("/requests/<ref>/left-out")
@documented(
    "listLeftOut",
    "What is left out of the answer (staff: handler and above)",
    "The tables and records a handler keeps out of the access answer (Art. 15(4)), "
    "numbered from 1.",
    responses={200: ("The entries.", schemas.LeftOut), 404: NOT_FOUND},
)
@token_required(HANDLER)
def list_left_out(ref: str):
    """What is left out of the answer, numbered from 1."""
    return jsonify(schemas.LEFT_OUT.dump(request_or_404(ref)))


@bp.post("/requests/<ref>/left-out")
@documented(
    "leaveOut",
    "Leave a table or one record out of the answer (staff: handler and above)",
    "Only in `review` and before the release. The record is absent from `data.json` "
    "and the CSVs, and listed with the reason in the manifest's `not_communicated` and "
    "the letter's annex. An audit event (`release.left_out`).",
    body=NewLeftOut,
    responses={
        201: ("Left out; all entries.", schemas.LeftOut),
        404: NOT_FOUND,
        409: LEFT_OUT_REFUSED,
        422: "A field is missing or wrong, the system, table or record does not exist, or "
        "it is left out already (`validation_error`; `fields` says what).",
    },
)
@token_required(HANDLER)
def leave_out(ref: str):
    """Leave a table, or one record of it, out of the answer (201, the entries)."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(_schema)
    record = body["record"]
    try:
        review.leave_out(
            req,
            body["connector"],
            body["table"],
            body["reason"],
            None if record is None else record - 1,
            actor=g.api_user.actor,
        )
    except review.ReviewError as exc:
        db.session.rollback()
        raise refused(exc) from exc
    db.session.commit()
    return jsonify(schemas.LEFT_OUT.dump(req)), 201


@bp.delete("/requests/<ref>/left-out/<int:number>")
@documented(
    "putBackLeftOut",
    "Put back into the answer what an entry left out (staff: handler and above)",
    "Only in `review` and before the release; the entries after it move up by one. An "
    "audit event (`release.left_out_undone`).",
    responses={
        200: ("Put back; the entries.", schemas.LeftOut),
        404: NOT_FOUND,
        409: LEFT_OUT_REFUSED,
        422: "No entry with this number (`validation_error`).",
    },
)
@token_required(HANDLER)
def put_back(ref: str, number: int):
    """Put back into the answer what entry `number` (from 1) left out."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    try:
        review.undo(req, number - 1, actor=g.api_user.actor)
    except review.ReviewError as exc:
        db.session.rollback()
        raise refused(exc) from exc
    db.session.commit()
    return jsonify(schemas.LEFT_OUT.dump(req))
