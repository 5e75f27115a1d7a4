"""Right of access (GDPR Art. 15)."""

from flask_babel import lazy_gettext as _l

from workflows import register
from workflows.base import RequestType
from workflows.fields import StrictSchema, Text


class AccessDetails(StrictSchema):
    #: optional: what the person is most interested in
    note = Text(2000, multiline=True)


@register
class Access(RequestType):
    name = "access"
    title = _l("Access my data")
    description = _l(
        "Receive a copy of the personal data we hold about you, with how and why we use it."
    )
    legal_basis = _l("GDPR Art. 15")
    details_schema = AccessDetails
    auto_start = True
    connector_actions = ("access",)
    answer = "pack"
    answer_letter = "access"
    answer_holds_data = True
