"""The staff API's decisions before processing (`dsr.decisions`), as on the case page:

    POST /api/v1/requests/<ref>/changes/<n>/decision   rectification: change n (from 1)
         {"accepted": true, "fields": ["crm.contacts.postal_address"]}
         or {"accepted": false, "reason": "..."}
    POST /api/v1/requests/<ref>/objection/decision      particular situation (Art. 21(1))
         {"upheld": true, "activities": ["customer_support"], "reasoning": "..."}
    POST /api/v1/requests/<ref>/death-notice/decision   a death notice's documents checked
         {"heirs_rights": ["close_accounts"]}   (the heirs' rights, without directives)

Each answers 200 with the request (as `GET /api/v1/requests/<ref>`); 409
`not_allowed` when the decision cannot be taken (not open, nothing to decide),
422 when the body is wrong. And `POST /api/v1/suppressions/check`: whether
identifiers belong to a person erased here (`dsr.suppression`), and
`POST /api/v1/requests/<ref>/restriction/lift` `{"reason"}`: the person told
that a restriction in force will be lifted (`dsr.restriction`).
"""

from flask import g, jsonify
from flask_babel import gettext as _
from marshmallow import Schema, validate
from marshmallow import fields as f

from dsr import decisions, restriction, suppression
from dsr.extensions import db
from dsr.release import answer
from dsr.web import schemas
from dsr.web.api import ApiError, load_body
from dsr.web.apidoc import NOT_FOUND, documented
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, bp, detail, request_or_404
from workflows.fields import Text
from workflows.post_mortem import HEIRS_RIGHTS

NAMES = f.List(Text(200), load_default=list, validate=validate.Length(max=50))


class ChangeDecision(Schema):
    accepted = f.Boolean(required=True)
    fields = NAMES
    reason = Text(decisions.TEXT_LIMIT, load_default=None, multiline=True)


class ObjectionDecision(Schema):
    upheld = f.Boolean(required=True)
    activities = NAMES
    reasoning = Text(decisions.TEXT_LIMIT, required=True, multiline=True)


class DeathNoticeDecision(Schema):
    heirs_rights = f.List(
        f.String(validate=validate.OneOf(list(HEIRS_RIGHTS))),
        load_default=list,
        validate=validate.Length(max=len(HEIRS_RIGHTS)),
    )


def decided(req, record) -> tuple:
    """Record a decision (the callable), answering 409 with its reason when it is refused."""
    try:
        record()
    except decisions.DecisionError as exc:
        db.session.rollback()
        raise ApiError(409, "not_allowed", str(exc)) from exc
    db.session.commit()
    return jsonify(detail(req)), 200


#: what every decision answers
DECIDED = {
    200: ("Recorded; the request.", schemas.RequestDetail),
    404: NOT_FOUND,
    409: "The decision cannot be taken now: not open, or nothing to decide (`not_allowed`).",
}


@bp.post("/requests/<ref>/changes/<int:number>/decision")
@documented(
    "decideChange",
    "Accept or refuse a requested correction (staff: handler and above)",
    "Rectification (Art. 16), while the request is `open`: accept change `number` (from "
    "1) naming the register fields it corrects, or refuse it with the reason the person "
    "reads. Processing starts once every change is decided.",
    body=ChangeDecision,
    responses=DECIDED,
)
@token_required(HANDLER)
def decide_change(ref: str, number: int):
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(ChangeDecision())
    return decided(
        req,
        lambda: decisions.decide_change(
            req,
            number - 1,
            accepted=body["accepted"],
            fields=body["fields"],
            reason=body["reason"],
            actor=g.api_user.actor,
        ),
    )


@bp.post("/requests/<ref>/objection/decision")
@documented(
    "decideObjection",
    "Decide an objection on grounds of a particular situation (staff: handler and above)",
    "Art. 21(1), while the request is `open`: upheld for the legitimate-interest "
    "activities named, or not because compelling legitimate grounds override; the "
    "reasoning goes in the answer.",
    body=ObjectionDecision,
    responses=DECIDED,
)
@token_required(HANDLER)
def decide_objection(ref: str):
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(ObjectionDecision())
    return decided(
        req,
        lambda: decisions.decide_objection(
            req,
            upheld=body["upheld"],
            activity_ids=body["activities"],
            reasoning=body["reasoning"],
            actor=g.api_user.actor,
        ),
    )


@bp.post("/requests/<ref>/death-notice/decision")
@documented(
    "decideDeathNotice",
    "Carry out a death notice whose documents were checked (staff: handler and above)",
    "Loi 78-17 Art. 85, while the request is `open` and has documents: the deceased's "
    "directives in force are carried out (a hand-over only for the designated person's own "
    "request); without directives, the `heirs_rights` named (`close_accounts`, "
    "`oppose_processing`), for an heir.",
    body=DeathNoticeDecision,
    responses=DECIDED,
)
@token_required(HANDLER)
def decide_death_notice(ref: str):
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(DeathNoticeDecision())
    return decided(
        req,
        lambda: decisions.decide_death_notice(
            req, heirs_rights=body["heirs_rights"], actor=g.api_user.actor
        ),
    )


class SuppressionQuery(Schema):
    email = f.String(load_default="", validate=validate.Length(max=254))
    phones = NAMES
    customer_numbers = NAMES
    #: for the OpenAPI document: at least one identifier, as `check_suppression` requires
    openapi_rules = {
        "anyOf": [
            {"required": ["email"], "properties": {"email": {"minLength": 1}}},
            {"required": ["phones"], "properties": {"phones": {"minItems": 1}}},
            {"required": ["customer_numbers"], "properties": {"customer_numbers": {"minItems": 1}}},
        ]
    }


@bp.post("/suppressions/check")
@documented(
    "checkSuppression",
    "Whether identifiers belong to a person erased here (staff: handler and above)",
    "For a system's owner about to re-import a person: the suppression records (keyed "
    "hashes) matching the email, phones or customer numbers given.",
    body=SuppressionQuery,
    responses={200: ("The answer.", schemas.Suppression)},
)
@token_required(HANDLER)
def check_suppression():
    """Whether identifiers belong to a person erased here (a re-import to stop); the
    answer names the erasure's reference and date, never other identifiers."""
    body = load_body(SuppressionQuery())
    if not (body["email"] or body["phones"] or body["customer_numbers"]):
        raise ApiError(
            422,
            "validation_error",
            _("Give an email address, phone numbers or customer numbers."),
            {"email": [_("Give an email address, phone numbers or customer numbers.")]},
        )
    found = suppression.check(body["email"], body["phones"], body["customer_numbers"])
    return jsonify(schemas.SUPPRESSION.dump(found))


class LiftAnnouncement(Schema):
    reason = Text(decisions.TEXT_LIMIT, required=True, multiline=True)


@bp.post("/requests/<ref>/restriction/lift")
@documented(
    "announceLift",
    "Announce the lifting of a restriction (staff: handler and above)",
    "Art. 18(3): the person is mailed the reasons; `RESTRICTION_LIFT_NOTICE_DAYS` later "
    "the systems that restricted are asked to `lift_restriction`.",
    body=LiftAnnouncement,
    responses=DECIDED,
)
@token_required(HANDLER)
def announce_lift(ref: str):
    """Announce the lifting of a restriction in force; the person is told (Art. 18(3))."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    body = load_body(LiftAnnouncement())
    try:
        restriction.announce_lift(req, body["reason"], actor=g.api_user.actor)
    except restriction.RestrictionError as exc:
        db.session.rollback()
        raise ApiError(409, "not_allowed", str(exc)) from exc
    db.session.commit()
    restriction.send_notice(req)
    return jsonify(detail(req)), 200
