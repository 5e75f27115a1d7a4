"""Withdrawal of consent (GDPR Art. 7(3))."""

from flask_babel import lazy_gettext as _l

from workflows import register
from workflows.base import RequestType
from workflows.fields import StrictSchema, Text, text_list


class ConsentWithdrawalDetails(StrictSchema):
    #: the purposes consent is withdrawn for: register activity ids or the subject's words
    purposes = text_list(200, 30, required=True)
    note = Text(2000, multiline=True)


@register
class ConsentWithdrawal(RequestType):
    name = "consent_withdrawal"
    title = _l("Withdraw my consent")
    description = _l("Withdraw a consent you gave; what was done before stays lawful.")
    legal_basis = _l("GDPR Art. 7(3)")
    details_schema = ConsentWithdrawalDetails
    auto_start = True
    connector_actions = ("withdraw_consent",)
