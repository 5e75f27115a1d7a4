"""Right to data portability (GDPR Art. 20)."""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, validates_schema

from workflows import register
from workflows.base import RequestType
from workflows.fields import Email, StrictSchema, Text


class PortabilityDetails(StrictSchema):
    #: Art. 20(2): transmit directly to another controller, where feasible
    recipient_name = Text(200)
    recipient_email = Email()

    @validates_schema
    def recipient_complete(self, data, **kwargs):
        if ("recipient_name" in data) != ("recipient_email" in data):
            missing = "recipient_email" if "recipient_name" in data else "recipient_name"
            raise ValidationError(
                _l("Give both the receiving organisation's name and its email address."), missing
            )


@register
class Portability(RequestType):
    name = "portability"
    title = _l("Receive my data to reuse it")
    description = _l(
        "Receive the data you gave us in a machine-readable format, "
        "or have it sent to another organisation."
    )
    legal_basis = _l("GDPR Art. 20")
    details_schema = PortabilityDetails
    auto_start = True
