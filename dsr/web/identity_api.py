"""The staff API's identity decision: `POST /api/v1/requests/<ref>/identifiers/<kind>/prove`.

A view on the staff API's blueprint (`dsr.web.staff_api.bp`), with its bearer
tokens and its one error shape.
"""

from flask import g, jsonify
from flask_babel import gettext as _

from dsr.extensions import db
from dsr.identity import claims
from dsr.web.api import ApiError, read_json
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, bp, identifier_json, request_or_404
from dsr.web.staff_forms import NOTE_LIMIT


def text_field(body: dict, name: str, limit: int) -> str:
    """A required, non-blank string of the body, or a 422 naming the field."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        message = _("This field is required.")
    elif len(value) > limit:
        message = _("At most %(limit)d characters.", limit=limit)
    else:
        return value.strip()
    raise ApiError(
        422,
        "validation_error",
        _("The request has errors; each field says what to fix."),
        {name: [message]},
    )


@bp.post("/requests/<ref>/identifiers/<kind>/prove")
@token_required(HANDLER)
def prove(ref: str, kind: str):
    """A handler holds a claimed identifier proven: systems may now find the person by it."""
    req = request_or_404(ref)
    body = read_json()
    if not isinstance(body, dict):
        raise ApiError(422, "validation_error", _("Send a JSON object."))
    value, note = text_field(body, "value", 64), text_field(body, "note", NOTE_LIMIT)
    try:
        claim = claims.prove_by_handler(req, kind, value, note=note, actor=g.api_user.actor)
    except claims.AlreadyProven as exc:
        db.session.rollback()
        raise ApiError(409, "already_proven", str(exc)) from exc
    except claims.NotClaimed as exc:
        db.session.rollback()
        raise ApiError(422, "not_claimed", str(exc), {"value": [str(exc)]}) from exc
    db.session.commit()
    return jsonify(
        identifier_json(claims.Identifier(claim.kind, claim.value, claim.normalised, claim))
    )
