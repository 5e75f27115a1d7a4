"""The staff API's identity decisions, as on the case page.

`POST /api/v1/requests/<ref>/identifiers/<kind>/prove` (a claimed identifier is
proven), `POST /api/v1/requests/<ref>/rerun` (run again with the identifiers
proven since) and `POST /api/v1/tasks/<id>/withheld/release|discard` (an answer
withheld because records carry another email address).

A view on the staff API's blueprint (`dsr.web.staff_api.bp`), with its bearer
tokens and its one error shape.
"""

from flask import g, jsonify
from flask_babel import gettext as _

from dsr import processing
from dsr.extensions import db
from dsr.identity import claims, rerun, withheld
from dsr.models import Task
from dsr.operations import InvalidTransition
from dsr.task_status import InvalidTaskTransition
from dsr.web.api import ApiError, read_json
from dsr.web.auth import token_required
from dsr.web.staff_api import (
    HANDLER,
    bp,
    detail,
    identifier_json,
    request_or_404,
    task_json,
    withheld_json,
)
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


@bp.post("/requests/<ref>/rerun")
@token_required(HANDLER)
def run_again(ref: str):
    """review -> processing: the tasks the identifiers proven since could let find more."""
    req = request_or_404(ref)
    try:
        rerun.rerun(req, actor=g.api_user.actor)
    except (processing.NotAllowed, InvalidTransition, InvalidTaskTransition) as exc:
        db.session.rollback()
        raise ApiError(409, "nothing_to_rerun", str(exc)) from exc
    return jsonify(detail(req))


@bp.post("/tasks/<task_id>/withheld/<any(release, discard):decision>")
@token_required(HANDLER)
def decide_withheld(task_id: str, decision: str):
    """The withheld answer joins the results (release) or is deleted (discard)."""
    task = db.session.get(Task, task_id)
    if task is None:
        raise ApiError(404, "not_found", _("There is no task with this id."))
    act = withheld.release if decision == "release" else withheld.discard
    try:
        act(task, actor=g.api_user.actor)
    except withheld.WithheldError as exc:
        db.session.rollback()
        raise ApiError(409, "not_allowed", str(exc)) from exc
    db.session.commit()
    answer = withheld.for_request(task.request).get(task.id)
    return jsonify({**task_json(task), "withheld": withheld_json(answer)})
