"""Post-mortem directives (French law: Loi 78-17 Art. 85)."""

import datetime as dt
from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, validates_schema

from connectors.base import Connector
from workflows import register
from workflows.base import Case, RequestType, Step, step
from workflows.erasure import Erasure
from workflows.fields import (
    Email,
    StrictSchema,
    Text,
    choice,
    date,
    dates_until_pattern,
    none_of,
)
from workflows.processing_register import activities, by_connector

MODES = {
    "directives": _l("I register directives for my data after my death"),
    "death_notice": _l(
        "I report a death and ask for the directives or heirs' rights to be applied"
    ),
}
DIRECTIVES = {
    "keep": _l("Keep my data"),
    "erase": _l("Erase my data"),
    "hand_over": _l("Hand my data over to a person I designate"),
}
ROLES = {
    "designated_person": _l("I am the person designated by the deceased"),
    "heir": _l("I am an heir"),
}
#: Loi 78-17 Art. 85 II: what heirs may ask when the deceased left no directives
HEIRS_RIGHTS = {
    "close_accounts": _l("Close the deceased's accounts (their data erased)"),
    "oppose_processing": _l("Oppose any further processing of the deceased's data"),
}


#: the details each mode takes; the other mode's are refused, so that a request never
#: mixes directives with a death notice
MODE_FIELDS = {
    "directives": ("directive", "trusted_person_name", "trusted_person_email", "instructions"),
    "death_notice": ("requester_role", "deceased_name", "deceased_email", "date_of_death"),
}
#: the details each mode cannot do without
MODE_REQUIRED = {
    "directives": ("directive",),
    "death_notice": ("requester_role", "deceased_name", "date_of_death"),
}
#: who a trusted person is needed for: the directive that hands the data over to them
HAND_OVER_REQUIRED = ("trusted_person_name", "trusted_person_email")
#: why a detail of the other mode is refused, by the mode it belongs to
OTHER_MODE = {
    "directives": _l("Only for registering directives: leave it out when you report a death."),
    "death_notice": _l("Only for reporting a death: leave it out when you register directives."),
}


class PostMortemDetails(StrictSchema):
    mode = choice(MODES, required=True)
    # (a) a living subject's directives
    directive = choice(DIRECTIVES)
    trusted_person_name = Text(200)
    trusted_person_email = Email()
    instructions = Text(4000, multiline=True)
    # (b) after death
    requester_role = choice(ROLES)
    deceased_name = Text(200)
    deceased_email = Email()
    date_of_death = date()
    #: for the OpenAPI document: `mode_fields`
    openapi_rules = {
        "oneOf": [
            {
                "properties": {
                    "mode": {"const": "directives"},
                    "directive": {"const": "hand_over"},
                },
                "required": [*MODE_REQUIRED["directives"], *HAND_OVER_REQUIRED],
                **none_of(MODE_FIELDS["death_notice"]),
            },
            {
                "properties": {
                    "mode": {"const": "directives"},
                    "directive": {"enum": [d for d in DIRECTIVES if d != "hand_over"]},
                },
                "required": list(MODE_REQUIRED["directives"]),
                **none_of(MODE_FIELDS["death_notice"]),
            },
            {
                "properties": {
                    "mode": {"const": "death_notice"},
                    "date_of_death": {
                        "description": "Not in the future.",
                        "pattern": dates_until_pattern(),
                    },
                },
                "required": list(MODE_REQUIRED["death_notice"]),
                **none_of(MODE_FIELDS["directives"]),
            },
        ]
    }

    @validates_schema
    def mode_fields(self, data, **kwargs):
        mode = data.get("mode")
        needed = list(MODE_REQUIRED.get(mode, ()))
        if mode == "directives" and data.get("directive") == "hand_over":
            needed += HAND_OVER_REQUIRED
        errors = {key: [_l("This field is required.")] for key in needed if key not in data}
        for other, keys in MODE_FIELDS.items():
            if other != mode:
                errors.update({key: [OTHER_MODE[other]] for key in keys if key in data})
        if data.get("date_of_death") and data["date_of_death"] > dt.date.today():
            errors.setdefault("date_of_death", [_l("The date cannot be in the future.")])
        if errors:
            raise ValidationError(errors)


@register
class PostMortem(RequestType):
    name = "post_mortem"
    title = _l("Directives after death")
    description = _l(
        "Say what should happen to your data after your death, or, as a "
        "designated person or heir, ask for those directives to be applied."
    )
    legal_basis = _l("Loi n° 78-17 Art. 85")
    details_schema = PostMortemDetails
    answer = "pack"
    answer_letter = "post_mortem"
    field_labels = {
        "details.mode": _l("What you want to do"),
        "details.directive": _l("Your directive"),
        "details.trusted_person_name": _l("Trusted person's name"),
        "details.trusted_person_email": _l("Trusted person's email address"),
        "details.instructions": _l("Instructions"),
        "details.requester_role": _l("You are"),
        "details.deceased_name": _l("Name of the deceased"),
        "details.deceased_email": _l("Email address of the deceased"),
        "details.date_of_death": _l("Date of death"),
    }
    field_choices = {
        "details.mode": MODES,
        "details.directive": DIRECTIVES,
        "details.requester_role": ROLES,
    }

    @classmethod
    def starts_itself(cls, details: dict) -> bool:
        """Registering directives asks no system and needs no decision; a death notice
        waits for a handler, who checks the documents."""
        return details.get("mode") == "directives"

    @classmethod
    def missing_decision(cls, details: Mapping, decisions: Mapping) -> str | None:
        if details.get("mode") == "death_notice" and not decisions.get("death_notice"):
            return _l(
                "Check the death notice's documents and record what is carried out before starting."
            )
        return None

    @classmethod
    def plan(cls, connectors: Iterable[Connector], case: Case) -> list[Step]:
        """After a death, once a handler checked the documents (`decisions["death_notice"]`):
        the deceased's directives (erase as an erasure does, legal holds kept; hand over:
        `access` everywhere, for the designated person; keep: nothing), or without
        directives the heirs' rights chosen (closing the accounts is an erasure; opposing
        further processing is `object` on every system running an activity)."""
        decision = case.decisions.get("death_notice") or {}
        connectors = list(connectors)
        if erases(case):
            return Erasure.plan(connectors, case)
        if decision.get("execute") == "hand_over":
            return [step(c, "access") for c in connectors]
        if "oppose_processing" in decision.get("heirs_rights", ()):
            running = by_connector(activities(case.register))
            return [
                step(c, "object", {"activities": running[c.name], "direct_marketing": False})
                for c in connectors
                if c.name in running
            ]
        return []

    @classmethod
    def holds_data(cls, case: Case) -> bool:
        """Handing the data over to the designated person sends them the deceased's data."""
        return (case.decisions.get("death_notice") or {}).get("execute") == "hand_over"

    @classmethod
    def when_done(cls, case: Case) -> frozenset[str]:
        if case.details.get("mode") == "directives":
            return frozenset({"register_directives"})
        return frozenset({"suppress", "notify_recipients"}) if erases(case) else frozenset()


def erases(case: Case) -> bool:
    """Whether a death notice's execution erases: the directives say so, or heirs asked for
    the accounts to be closed (which makes opposing further processing moot)."""
    decision = case.decisions.get("death_notice") or {}
    return decision.get("execute") == "erase" or "close_accounts" in decision.get(
        "heirs_rights", ()
    )
