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
from dsr.web import schemas
from dsr.web.api import ApiError, load_body
from dsr.web.apidoc import NOT_FOUND, documented
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, bp, detail, request_or_404
from dsr.web.staff_forms import NOTE_LIMIT
from workflows.fields import StrictSchema, Text


class Proof(StrictSchema):
    """Why a handler holds a claimed identifier proven."""

    value = Text(
        64, required=True, metadata={"description": "One of the request's identifiers of `kind`."}
    )
    note = Text(
        NOTE_LIMIT, required=True, multiline=True, metadata={"description": "What proves it."}
    )


_proof = Proof()


@bp.post("/requests/<ref>/identifiers/<kind>/prove")
@documented(
    "proveIdentifier",
    "Hold a claimed identifier proven (staff: handler and above)",
    "After looking at what the subject sent: systems may now find the person by this "
    "identifier. A request already in `review` can then run its tasks again from the "
    "case page. An audit event records it, with the value masked.",
    body=Proof,
    responses={
        200: ("Proven.", schemas.Identifier),
        404: NOT_FOUND,
        409: "The identifier is proven already (`already_proven`).",
        422: "`value` is not one of the request's identifiers of this kind (`not_claimed`), "
        "or `value` or `note` is missing (`validation_error`).",
    },
)
@token_required(HANDLER)
def prove(ref: str, kind: str):
    """A handler holds a claimed identifier proven: systems may now find the person by it."""
    req = request_or_404(ref)
    body = load_body(_proof)
    try:
        claim = claims.prove_by_handler(
            req, kind, body["value"], note=body["note"], actor=g.api_user.actor
        )
    except claims.AlreadyProven as exc:
        db.session.rollback()
        raise ApiError(409, "already_proven", str(exc)) from exc
    except claims.NotClaimed as exc:
        db.session.rollback()
        raise ApiError(422, "not_claimed", str(exc), {"value": [str(exc)]}) from exc
    db.session.commit()
    identifier = claims.Identifier(claim.kind, claim.value, claim.normalised, claim)
    return jsonify(schemas.IDENTIFIER.dump(identifier))


@bp.post("/requests/<ref>/rerun")
@documented(
    "rerunWithProvenIdentifiers",
    "Run again the tasks that identifiers proven since could let find more "
    "(staff: handler and above)",
    "For a request in `review`: every finished task of a system that matches on an "
    "identifier proven after it ran is queued again; the request goes back to `processing`.",
    responses={
        200: ("Queued again.", schemas.RequestDetail),
        404: NOT_FOUND,
        409: "No task would find more, or the request is not in review (`nothing_to_rerun`).",
    },
)
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
@documented(
    "decideWithheldAnswer",
    "Release or discard a task's withheld answer (staff: handler and above)",
    "An answer whose records carry another email address than the confirmed one is "
    "withheld. `release`: they belong to this person and join the results (only while "
    "the request is `processing` or `review`); `discard`: they are deleted.",
    responses={
        200: ("Decided.", schemas.Task),
        404: "No task with this id (`not_found`).",
        409: "Nothing of this task is withheld and waiting, or the request is closed "
        "(`not_allowed`).",
    },
)
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
    return jsonify(schemas.TASK.dump(task))
