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
from dsr.models import DataRequest
from dsr.release import answer, review
from dsr.web.api import ApiError, load_body
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, bp, request_or_404
from workflows.fields import StrictSchema, Text

RECORD_NUMBER = _l("The record number is a whole number from 1.")


class LeftOutSchema(StrictSchema):
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


_schema = LeftOutSchema()


def entry_json(number: int, entry: dict) -> dict:
    record = entry.get("record")
    return {
        "number": number,
        "connector": entry["connector"],
        "table": entry["table"],
        "record": None if record is None else record + 1,
        "reason": entry["reason"],
        "by": entry.get("by"),
        "at": entry.get("at"),
    }


def left_out_json(req: DataRequest) -> dict:
    entries = req.left_out or []
    return {"ref": req.ref, "left_out": [entry_json(n, e) for n, e in enumerate(entries, 1)]}


def refused(exc: review.ReviewError) -> ApiError:
    """409 when nothing may change now; 422 when this change names nothing or is made."""
    if isinstance(exc, review.NotEditable):
        return ApiError(409, exc.code, str(exc))
    return ApiError(422, "validation_error", str(exc), {"_schema": [str(exc)]})


@bp.get("/requests/<ref>/left-out")
@token_required(HANDLER)
def list_left_out(ref: str):
    """What is left out of the answer, numbered from 1."""
    return jsonify(left_out_json(request_or_404(ref)))


@bp.post("/requests/<ref>/left-out")
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
    return jsonify(left_out_json(req)), 201


@bp.delete("/requests/<ref>/left-out/<int:number>")
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
    return jsonify(left_out_json(req))
