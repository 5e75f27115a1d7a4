"""Right to object (GDPR Art. 21)."""

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, validates_schema

from connectors.base import Connector
from workflows import register
from workflows.base import Case, RequestType, Step, step
from workflows.fields import StrictSchema, Text, choice
from workflows.processing_register import activities, by_connector

BASES = {
    "direct_marketing": _l("Direct marketing (always honoured, Art. 21(2))"),
    "particular_situation": _l("Grounds relating to my particular situation (Art. 21(1))"),
}


class ObjectionDetails(StrictSchema):
    basis = choice(BASES, required=True)
    #: which processing the person objects to
    processing = Text(500)
    #: Art. 21(1): the person states the grounds of their particular situation
    grounds = Text(4000, multiline=True)
    #: for the OpenAPI document: `situation_is_explained`
    openapi_rules = {
        "oneOf": [
            {"properties": {"basis": {"const": "direct_marketing"}}},
            {
                "properties": {"basis": {"const": "particular_situation"}},
                "required": ["processing", "grounds"],
            },
        ]
    }

    @validates_schema
    def situation_is_explained(self, data, **kwargs):
        if data.get("basis") != "particular_situation":
            return
        errors = {
            key: [_l("Required for an objection on grounds of your situation.")]
            for key in ("processing", "grounds")
            if key not in data
        }
        if errors:
            raise ValidationError(errors)


@register
class Objection(RequestType):
    name = "objection"
    title = _l("Object to the use of my data")
    description = _l(
        "Stop direct marketing at once, or object to a use of your data "
        "based on our legitimate interest."
    )
    legal_basis = _l("GDPR Art. 21")
    details_schema = ObjectionDetails
    field_labels = {
        "details.basis": _l("What you object to"),
        "details.processing": _l("Which use of your data you object to"),
        "details.grounds": _l("The grounds relating to your particular situation"),
    }
    field_choices = {"details.basis": BASES}
    answer = "pack"
    answer_letter = "objection"
    auto_start = True

    @classmethod
    def plan(cls, connectors: Iterable[Connector], case: Case) -> list[Step]:
        """Direct marketing (Art. 21(3)): `object` on every system running a marketing
        activity, at once. A particular situation (Art. 21(1)): on the systems running the
        activities a handler upheld the objection for (`decisions["objection"]`), if any."""
        if case.details.get("basis") == "direct_marketing":
            chosen = activities(case.register, direct_marketing=True)
            marketing = True
        else:
            decision = case.decisions.get("objection") or {}
            ids = decision.get("activities") or []
            chosen = activities(case.register, ids) if decision.get("upheld") and ids else []
            marketing = False
        running = by_connector(chosen)
        return [
            step(c, "object", {"activities": running[c.name], "direct_marketing": marketing})
            for c in connectors
            if c.name in running
        ]

    @classmethod
    def missing_decision(cls, details: Mapping, decisions: Mapping) -> str | None:
        if details.get("basis") != "direct_marketing" and not decisions.get("objection"):
            return _l("Record whether the objection is upheld before starting.")
        return None

    @classmethod
    def when_done(cls, case: Case) -> frozenset[str]:
        """Direct marketing: stopped, and the person told, without waiting for anyone."""
        marketing = case.details.get("basis") == "direct_marketing"
        return frozenset({"release"}) if marketing else frozenset()

    @classmethod
    def starts_itself(cls, details: dict) -> bool:
        """Objections to direct marketing are absolute: no handler decision is needed."""
        return details.get("basis") == "direct_marketing"
