"""Withdrawal of consent (GDPR Art. 7(3))."""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

from connectors.base import Connector
from workflows import register
from workflows.base import Case, RequestType, Step, step
from workflows.fields import StrictSchema, Text, text_list
from workflows.processing_register import activities, by_connector


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
    field_labels = {
        "details.purposes": _l("What you withdraw your consent for"),
    }
    answer = "pack"
    answer_letter = "consent_withdrawal"
    auto_start = True

    @classmethod
    def when_done(cls, case: Case) -> frozenset[str]:
        """Released by itself when every purpose named is a consent activity of the register;
        purposes in the person's own words wait for a handler, who maps them."""
        named = set(case.details.get("purposes", []))
        known = {a.get("id") for a in activities(case.register, legal_basis="consent")}
        return frozenset({"release"}) if named and named <= known else frozenset()

    @classmethod
    def plan(cls, connectors: Iterable[Connector], case: Case) -> list[Step]:
        """`withdraw_consent` on the systems running the consent-based activities the person
        named by id; purposes in their own words are for a handler to map."""
        named = [p for p in case.details.get("purposes", []) if p]
        if not named:
            return []
        running = by_connector(activities(case.register, named, legal_basis="consent"))
        return [
            step(c, "withdraw_consent", {"activities": running[c.name]})
            for c in connectors
            if c.name in running
        ]
