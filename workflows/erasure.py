"""Right to erasure (GDPR Art. 17, recipients notified under Art. 19)."""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

from connectors.base import Connector
from workflows import register
from workflows.base import Case, RequestType, Step, step
from workflows.fields import StrictSchema, Text, choice
from workflows.processing_register import held_fields

#: Art. 17(1) (a) to (f)
GROUNDS = {
    "no_longer_necessary": _l("The data are no longer needed for their purpose"),
    "consent_withdrawn": _l("I withdraw my consent"),
    "objection": _l("I object to the processing"),
    "unlawful": _l("The data are processed unlawfully"),
    "legal_obligation": _l("The law requires erasure"),
    "child": _l("The data were collected when I was a child, for an online service"),
}


class ErasureDetails(StrictSchema):
    ground = choice(GROUNDS)
    note = Text(2000, multiline=True)


@register
class Erasure(RequestType):
    name = "erasure"
    title = _l("Erase my data")
    description = _l(
        "Have your data erased, except what the law obliges us to keep; "
        "we tell you what is kept and why."
    )
    legal_basis = _l("GDPR Art. 17, 19")
    details_schema = ErasureDetails
    field_labels = {
        "details.ground": _l("Why you ask for this"),
    }
    field_choices = {"details.ground": GROUNDS}
    answer = "pack"
    answer_letter = "erasure"

    @classmethod
    def when_done(cls, case: Case) -> frozenset[str]:
        return frozenset({"suppress", "notify_recipients"})

    @classmethod
    def plan(cls, connectors: Iterable[Connector], case: Case) -> list[Step]:
        """`erase` on every system, told which of its fields a legal hold keeps (Art. 17(3))."""
        return [step(c, "erase", {"keep": held_fields(case.register, c.name)}) for c in connectors]
