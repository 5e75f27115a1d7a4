"""The grounds on which a handler refuses a request (Art. 12(4), 12(5)), and the exemptions
from the law a refusal on the `exemption` ground names.

The built-in exemptions below are those of the GDPR itself and of Art. 23 as French law
transposes it; an instance adds its own in its TOML, each an `[[exemptions]]` table:

    [[exemptions]]
    id = "aml_indirect_access"
    label = { fr = "...", en = "..." }     # or one string for every language

Labels are what handlers choose from and what the person reads in the refusal.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l

from dsr.letters.register import localized

#: the `ground` of a refusal (the API's values) and how the handler reads it
GROUNDS = {
    "manifestly_unfounded": _l("Manifestly unfounded (Art. 12(5))"),
    "excessive": _l("Excessive, in particular because repetitive (Art. 12(5))"),
    "identity_not_established": _l("The person's identity could not be established (Art. 12(2))"),
    "exemption": _l("An exemption provided by law (choose which)"),
}

#: exemptions every instance offers: id -> label (the person reads it)
BUILT_IN = {
    "freedom_of_expression": _l(
        "Art. 17(3)(a) GDPR: exercising the right of freedom of expression and information"
    ),
    "legal_obligation": _l(
        "Art. 17(3)(b) GDPR: compliance with a legal obligation, or a task carried out in the "
        "public interest or in the exercise of official authority"
    ),
    "public_health": _l(
        "Art. 17(3)(c) GDPR: reasons of public interest in the area of public health"
    ),
    "archiving_research": _l(
        "Art. 17(3)(d) and 89 GDPR: archiving in the public interest, scientific or historical "
        "research, or statistics"
    ),
    "legal_claims": _l(
        "Art. 17(3)(e) GDPR: the establishment, exercise or defence of legal claims"
    ),
    "rights_of_others": _l(
        "Art. 15(4) and 20(4) GDPR: the rights and freedoms of others would be adversely affected"
    ),
    "national_restriction": _l(
        "Art. 23 GDPR: a restriction of this right provided by French law (Loi n° 78-17 of "
        "6 January 1978 and the laws it refers to)"
    ),
}


class ExemptionConfigError(ValueError):
    """An `[[exemptions]]` entry of the instance TOML that cannot be used; says which."""


def check(entries) -> None:
    """The instance's `[[exemptions]]`: each an `id` of its own and a `label` (a string, or
    a table of strings per language). Raises ExemptionConfigError naming what to fix."""
    if not isinstance(entries, list):
        raise ExemptionConfigError("exemptions must be a list of [[exemptions]] tables")
    seen = set(BUILT_IN)
    for number, entry in enumerate(entries, 1):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(ident, str) or not ident.strip() or ident in seen:
            raise ExemptionConfigError(
                f"exemptions #{number}: give an `id` of its own (not one of {', '.join(seen)})"
            )
        seen.add(ident)
        given = entry.get("label")
        labels = given.values() if isinstance(given, dict) else [given]
        if not labels or not all(isinstance(text, str) and text.strip() for text in labels):
            raise ExemptionConfigError(
                f"exemptions #{number} ({ident}): give a `label`, "
                "a string or { fr = ..., en = ... }"
            )


def choices(language: str) -> list[tuple[str, str]]:
    """(id, label) of every exemption, built-in first, labels in `language`."""
    extra = current_app.config["INSTANCE"].get("exemptions", [])
    return [(ident, str(label)) for ident, label in BUILT_IN.items()] + [
        (entry["id"], localized(entry["label"], language)) for entry in extra
    ]


def known(ident: str | None) -> bool:
    extra = current_app.config["INSTANCE"].get("exemptions", [])
    return ident in BUILT_IN or any(entry["id"] == ident for entry in extra)


def label(ident: str, language: str) -> str:
    """What an exemption is called, in `language` (the caller forces the locale for the
    built-in ones); its id if the instance no longer declares it."""
    return dict(choices(language)).get(ident, ident)
