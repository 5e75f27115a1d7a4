"""Right to data portability (GDPR Art. 20).

The answer is a pack like access's, without the letter, holding only the data
the register marks as provided by the person and processed on consent or
contract (`workflows.processing_register.portable_scope`); only the systems that hold
such data are asked. A receiving controller named on the form can be sent a
pull link to the same pack once it is released (`dsr.release.transmission`).
"""

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, validates_schema

from connectors.base import Connector
from workflows import register
from workflows.base import Case, RequestType, Step
from workflows.fields import Email, StrictSchema, Text
from workflows.processing_register import Scope, portable_scope, scope_connectors


class PortabilityDetails(StrictSchema):
    #: Art. 20(2): transmit directly to another controller, where feasible
    recipient_name = Text(200)
    recipient_email = Email()
    #: for the OpenAPI document: `recipient_complete`
    openapi_rules = {
        "dependentRequired": {
            "recipient_name": ["recipient_email"],
            "recipient_email": ["recipient_name"],
        }
    }

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
    field_labels = {
        "details.recipient_name": _l("Receiving organisation"),
        "details.recipient_email": _l("Its email address"),
    }
    auto_start = True
    connector_actions = ("access",)
    answer = "pack"
    answer_holds_data = True

    @classmethod
    def plan(cls, connectors: Iterable[Connector], case: Case) -> list[Step]:
        """Access on the systems that hold portable data only: the others have nothing to give."""
        holding = scope_connectors(portable_scope(case.register))
        return super().plan([c for c in connectors if c.name in holding], case)

    @classmethod
    def answer_scope(cls, case: Case) -> Scope:
        return portable_scope(case.register)

    @staticmethod
    def recipient(details: Mapping) -> tuple[str, str] | None:
        """The receiving controller (name, email) the person named (Art. 20(2)), if any."""
        if details.get("recipient_email"):
            return details.get("recipient_name", ""), details["recipient_email"]
        return None
