"""Right to object (GDPR Art. 21)."""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, validates_schema

from workflows import register
from workflows.base import RequestType
from workflows.fields import StrictSchema, Text, choice

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
    auto_start = True
    connector_actions = ("object",)

    @classmethod
    def starts_itself(cls, details: dict) -> bool:
        """Objections to direct marketing are absolute: no handler decision is needed."""
        return details.get("basis") == "direct_marketing"
