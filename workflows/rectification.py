"""Right to rectification (GDPR Art. 16, recipients notified under Art. 19)."""

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from connectors.base import Connector
from workflows import register
from workflows.base import Case, RequestType, Step, step
from workflows.fields import REQUIRED, StrictSchema, Text


class Change(StrictSchema):
    field = Text(100, required=True)
    current_value = Text(500)
    corrected_value = Text(500, required=True)


class RectificationDetails(StrictSchema):
    changes = fields.List(
        fields.Nested(Change),
        required=True,
        validate=validate.Length(
            min=1, max=20, error=_l("Give between {min} and {max} corrections.")
        ),
        error_messages={"required": REQUIRED, "invalid": _l("Give a list of corrections.")},
    )
    note = Text(2000, multiline=True)


@register
class Rectification(RequestType):
    name = "rectification"
    title = _l("Correct my data")
    description = _l("Have inaccurate data about you corrected, or incomplete data completed.")
    legal_basis = _l("GDPR Art. 16, 19")
    details_schema = RectificationDetails
    field_labels = {
        "details.changes": _l("Corrections"),
        "details.changes.#.field": _l("Which data (for example: postal address)"),
        "details.changes.#.current_value": _l("Value as we hold it"),
        "details.changes.#.corrected_value": _l("Correct value"),
    }
    answer = "pack"
    answer_letter = "rectification"

    @classmethod
    def when_done(cls, case: Case) -> frozenset[str]:
        return frozenset({"notify_recipients"})

    @classmethod
    def missing_decision(cls, details: Mapping, decisions: Mapping) -> str | None:
        decided = {d.get("index") for d in decisions.get("changes", [])}
        if len(decided) < len(details.get("changes", [])):
            return _l("Accept or refuse every requested change before starting.")
        return None

    @classmethod
    def plan(cls, connectors: Iterable[Connector], case: Case) -> list[Step]:
        """`rectify` on each system holding a field of an accepted change: a handler accepts
        each change naming the register fields it corrects ("crm.contacts.postal_address")
        or refuses it with a reason (`decisions["changes"]`)."""
        changes = case.details.get("changes", [])
        per_system: dict[str, list[dict]] = {}
        for decision in case.decisions.get("changes", []):
            if not decision.get("accepted"):
                continue
            change = changes[decision["index"]]
            for target in decision.get("fields", []):
                connector, _, field = str(target).partition(".")
                per_system.setdefault(connector, []).append(
                    {
                        "field": field,
                        "old": change.get("current_value"),
                        "new": change["corrected_value"],
                    }
                )
        return [
            step(c, "rectify", {"changes": per_system[c.name]})
            for c in connectors
            if c.name in per_system
        ]
