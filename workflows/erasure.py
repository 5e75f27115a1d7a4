"""Right to erasure (GDPR Art. 17, recipients notified under Art. 19)."""

from flask_babel import lazy_gettext as _l

from workflows import register
from workflows.base import RequestType
from workflows.fields import StrictSchema, Text, choice

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
