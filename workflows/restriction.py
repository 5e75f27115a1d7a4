"""Right to restriction of processing (GDPR Art. 18)."""

from flask_babel import lazy_gettext as _l

from workflows import register
from workflows.base import Case, RequestType
from workflows.fields import StrictSchema, Text, choice

#: Art. 18(1) (a) to (d)
GROUNDS = {
    "accuracy_contested": _l("I contest the accuracy of my data, while you check it"),
    "unlawful_processing": _l("The processing is unlawful but I do not want erasure"),
    "legal_claims": _l("You no longer need the data but I need them for a legal claim"),
    "objection_pending": _l("I have objected, while you check whose grounds prevail"),
}


class RestrictionDetails(StrictSchema):
    ground = choice(GROUNDS, required=True)
    note = Text(2000, multiline=True)


@register
class Restriction(RequestType):
    name = "restriction"
    title = _l("Restrict the use of my data")
    description = _l("Have your data kept but no longer used, for a time.")
    legal_basis = _l("GDPR Art. 18")
    details_schema = RestrictionDetails
    field_labels = {
        "details.ground": _l("Why you ask for this"),
    }
    field_choices = {"details.ground": GROUNDS}
    answer = "pack"
    answer_letter = "restriction"
    connector_actions = ("restrict",)

    @classmethod
    def when_done(cls, case: Case) -> frozenset[str]:
        return frozenset({"restrict", "notify_recipients"})
