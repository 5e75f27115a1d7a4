"""The staff API's decisions that stretch or end a case, its notes and its duplicates, as
on the case page (`dsr.case_decisions`, `dsr.notes`, `dsr.duplicates`):

    POST /api/v1/requests/<ref>/extend  {"reason", "months": 2}       Art. 12(3), once
    POST /api/v1/requests/<ref>/reject  {"ground", "exemption", "explanation"}
    POST /api/v1/requests/<ref>/close   {"reason"}    completed without a pack
    POST /api/v1/requests/<ref>/notes   {"text"}      201, the note (staff only)
    POST /api/v1/requests/<ref>/merge   {"into": "DSR-..."}   into an open duplicate

The decisions answer 200 with the request (as `GET /api/v1/requests/<ref>`); 409 when
the decision cannot be taken now (`wrong_status`, `already_extended`, `deadline_passed`,
`release_in_progress`, `not_a_duplicate`), 422 when the body is wrong. Role: handler.
"""

from flask import g, jsonify
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as f

from dsr import case_decisions, caseload, duplicates, exemptions, notes
from dsr.decisions import TEXT_LIMIT, DecisionError
from dsr.extensions import db
from dsr.release import answer
from dsr.web import schemas
from dsr.web.api import ApiError, load_body
from dsr.web.apidoc import NOT_FOUND, documented
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, bp, detail, request_or_404
from workflows.fields import Text


class Extension(Schema):
    reason = Text(TEXT_LIMIT, required=True, multiline=True)
    months = f.Integer(load_default=2, validate=validate.OneOf(case_decisions.EXTENSION_MONTHS))


class Refusal(Schema):
    ground = f.String(required=True, validate=validate.OneOf(list(exemptions.GROUNDS)))
    exemption = Text(100, load_default=None, allow_none=True)
    explanation = Text(TEXT_LIMIT, required=True, multiline=True)

    @validates_schema
    def exemption_for_its_ground(self, data, **kwargs):
        """An `exemption` ground names an exemption the instance knows, and only it does."""
        if data.get("ground") != "exemption":
            if data.get("exemption"):
                raise ValidationError(_("Only the `exemption` ground names one."), "exemption")
            return
        if not exemptions.known(data.get("exemption")):
            known = [ident for ident, _label in exemptions.choices("en")]
            raise ValidationError(_("Name one of: %(known)s.", known=", ".join(known)), "exemption")


class Closure(Schema):
    reason = Text(TEXT_LIMIT, required=True, multiline=True)


class Note(Schema):
    text = Text(notes.NOTE_LIMIT, required=True, multiline=True)


class Merge(Schema):
    into = Text(20, required=True)


def decided(req, take) -> tuple:
    """Take the decision (a callable returning what to do after the commit): 409 with the
    reason when it cannot be taken now."""
    try:
        after = take()
    except case_decisions.Refused as exc:
        db.session.rollback()
        raise ApiError(409, exc.code, str(exc)) from exc
    except DecisionError as exc:  # what the schema let through but the decision refuses
        db.session.rollback()
        raise ApiError(422, "validation_error", str(exc)) from exc
    db.session.commit()
    after()
    return jsonify(detail(req)), 200


@bp.post("/requests/<ref>/extend")
@documented(
    "extendDeadline",
    "Extend the deadline by one or two further months (Art. 12(3)) (staff: handler and above)",
    "Once, before the first deadline, with reasons the person reads by email; `due_at` "
    "becomes the extended date (the month rule from the first deadline).",
    body=Extension,
    responses={
        200: ("Decided; the request.", schemas.RequestDetail),
        404: NOT_FOUND,
        409: "Not now: `wrong_status`, `already_extended`, `deadline_passed`, "
        "`release_in_progress`.",
    },
)
@token_required(HANDLER)
def extend(ref: str):
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(Extension())

    def take():
        case_decisions.extend(req, body["reason"], months=body["months"], actor=g.api_user.actor)
        return lambda: case_decisions.send_extension(req)

    return decided(req, take)


@bp.post("/requests/<ref>/reject")
@documented(
    "rejectRequest",
    "Refuse the request (Art. 12(4), 12(5)) (staff: handler and above)",
    "`rejected`; unfinished tasks are cancelled; the person is emailed the reasons, the right "
    "to complain to the supervisory authority and to seek a judicial remedy. `exemption` "
    "names one of the exemptions the case page lists, for that ground only.",
    body=Refusal,
    responses={
        200: ("Decided; the request.", schemas.RequestDetail),
        404: NOT_FOUND,
        409: "Not now: `wrong_status`, `release_in_progress`.",
    },
)
@token_required(HANDLER)
def reject(ref: str):
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(Refusal())

    def take():
        case_decisions.reject(
            req,
            body["ground"],
            body["explanation"],
            exemption=body["exemption"],
            actor=g.api_user.actor,
        )
        return lambda: case_decisions.send_refusal(req)

    return decided(req, take)


@bp.post("/requests/<ref>/close")
@documented(
    "closeRequest",
    "Complete the request without a pack: answered by another channel (staff: handler and above)",
    "`completed`; unfinished tasks are cancelled; the reason is kept and emailed.",
    body=Closure,
    responses={
        200: ("Decided; the request.", schemas.RequestDetail),
        404: NOT_FOUND,
        409: "Not now: `wrong_status`, `release_in_progress`.",
    },
)
@token_required(HANDLER)
def close(ref: str):
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(Closure())

    def take():
        case_decisions.close(req, body["reason"], actor=g.api_user.actor)
        return lambda: case_decisions.send_closure(req)

    return decided(req, take)


@bp.post("/requests/<ref>/notes")
@documented(
    "addNote",
    "Add a note for staff (staff: handler and above)",
    "Never shown to the person; listed in `notes` of the request.",
    body=Note,
    responses={
        201: ("The note.", schemas.CaseNote),
        404: NOT_FOUND,
        409: "The request was anonymised (`not_allowed`).",
    },
)
@token_required(HANDLER)
def add_note(ref: str):
    req = request_or_404(ref)
    body = load_body(Note())
    try:
        note = notes.add(req, body["text"], author=g.api_user.email, actor=g.api_user.actor)
    except DecisionError as exc:
        db.session.rollback()
        raise ApiError(409, "not_allowed", str(exc)) from exc
    db.session.commit()
    return jsonify(schemas.CASE_NOTE.dump(note)), 201


@bp.post("/requests/<ref>/merge")
@documented(
    "mergeRequest",
    "Merge the request into an open duplicate (staff: handler and above)",
    "The request is `completed`, pointing at `into` (`merged_into`); the person is told.",
    body=Merge,
    responses={
        200: ("Decided; the request.", schemas.RequestDetail),
        404: NOT_FOUND,
        409: "Not now: `wrong_status`, `not_a_duplicate`, `release_in_progress`.",
    },
)
@token_required(HANDLER)
def merge(ref: str):
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(Merge())
    into = caseload.by_ref(body["into"])
    if into is None or into.id == req.id:
        message = _("Name another request by its reference.")
        raise ApiError(422, "validation_error", message, {"into": [message]})

    def take():
        duplicates.merge(req, into, actor=g.api_user.actor)
        return lambda: duplicates.send_notice(req, into)

    return decided(req, take)
