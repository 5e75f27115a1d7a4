"""Right to rectification (GDPR Art. 16, recipients notified under Art. 19)."""

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from workflows import register
from workflows.base import RequestType
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
