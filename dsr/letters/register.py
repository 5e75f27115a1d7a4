"""The processing register (Art. 30) of the instance TOML, read in one language for a letter."""

from collections.abc import Iterable, Mapping

from workflows.processing_register import activity_connectors, field_parts, scope_of


def localized(text, language: str) -> str:
    """A {"fr": ..., "en": ...} table in `language`, else in any language it has."""
    if isinstance(text, Mapping):
        return str(text.get(language) or next(iter(text.values()), ""))
    return str(text or "")


def field_tables(activity: Mapping) -> set[tuple[str, str]]:
    """The (connector, table) pairs an activity's `fields` name ("crm.contacts.email")."""
    return set(scope_of(activity.get("fields", [])))


def concerns(activity: Mapping, found: set[tuple[str, str]]) -> bool:
    """Whether the activity processes data of the person, given the (connector, table)
    pairs in which the systems found records about them.

    An activity is matched by its fields' tables, else (no fields) by its connectors; an
    activity that names neither cannot be checked against any system, so it is kept.
    """
    tables = field_tables(activity)
    if tables:
        return bool(tables & found)
    connectors = set(activity.get("connectors", []))
    if connectors:
        return any(connector in connectors for connector, _ in found)
    return True


def activities_for(register: Mapping, found: set[tuple[str, str]], language: str) -> list[dict]:
    """The activities that concern the person, as plain texts in `language`."""
    labels = {
        category.get("id"): localized(category.get("label"), language)
        for category in register.get("data_categories", [])
    }
    return [
        describe(activity, labels, language)
        for activity in register.get("activities", [])
        if concerns(activity, found)
    ]


def describe(activity: Mapping, labels: Mapping[str, str], language: str) -> dict:
    """One activity's Art. 15(1) and 15(2) items, each a text (or list of texts) or None."""
    hold = activity.get("legal_hold") or {}
    return {
        "id": activity.get("id", ""),
        "purpose": localized(activity.get("purpose"), language),
        "legal_basis": activity.get("legal_basis", ""),
        "categories": [labels.get(c) or str(c) for c in activity.get("data_categories", [])],
        "recipients": texts(activity.get("recipients", []), language),
        "retention": localized(activity.get("retention"), language),
        "source": localized(activity.get("source"), language) or None,
        "automated_decision": automated_decision(activity.get("automated_decision"), language),
        "transfers": localized(activity.get("transfers_outside_eu"), language) or None,
        "legal_hold": localized(hold.get("ground"), language) or None,
    }


def automated_decision(value, language: str) -> str | bool:
    """False when there is none; else the register's description of its logic and
    consequences in `language`, or True when the register only says there is one."""
    if isinstance(value, Mapping):
        return localized(value, language) or True
    return bool(value)


def texts(values: Iterable, language: str) -> list[str]:
    return [text for text in (localized(value, language) for value in values) if text]


def purposes(register: Mapping, ids: Iterable[str], language: str) -> list[str]:
    """The purposes of the activities `ids` name, in order; an id the register does not
    know is the person's own words and stays as it is."""
    known = {a.get("id"): a for a in register.get("activities", [])}
    return [localized(known[i]["purpose"], language) if i in known else str(i) for i in ids]


def activities_on(register: Mapping, connectors: Iterable[str]) -> list[Mapping]:
    """The activities that run on any of `connectors` (their `connectors`, else their fields')."""
    wanted = set(connectors)
    return [a for a in register.get("activities", []) if activity_connectors(a) & wanted]


def covering(register: Mapping, targets: Iterable[str]) -> list[Mapping]:
    """The activities whose `fields` hold one of `targets` ("crm.contacts.postal_address"):
    the same field, or its whole table."""
    wanted = set()
    for target in targets:
        parts = field_parts(target)
        if parts:
            wanted |= {target, f"{parts[0]}.{parts[1]}"}
    return [a for a in register.get("activities", []) if wanted & set(a.get("fields", []))]


def recipients(activities: Iterable[Mapping], language: str) -> list[str]:
    """The recipients of `activities` in `language`, each once, in the register's order."""
    seen: dict[str, None] = {}
    for activity in activities:
        for text in texts(activity.get("recipients", []), language):
            seen[text] = None
    return list(seen)


def legal_holds(register: Mapping, connectors: Iterable[str], language: str) -> list[dict]:
    """The legal holds (Art. 17(3)) that keep fields of `connectors`: per activity with a
    `legal_hold`, its purpose, the kept fields per connector ("invoices", "customers.name"),
    the ground and retention texts and `retention_years` (None when not given)."""
    wanted, holds = set(connectors), []
    for activity in register.get("activities", []):
        hold = activity.get("legal_hold") or {}
        kept: dict[str, list[str]] = {}
        for field in hold.get("fields", []):
            owner, _, rest = str(field).partition(".")
            if owner in wanted and rest:
                kept.setdefault(owner, []).append(rest)
        if kept:
            holds.append(
                {
                    "purpose": localized(activity.get("purpose"), language),
                    "fields": kept,
                    "ground": localized(hold.get("ground"), language),
                    "retention": localized(hold.get("retention"), language),
                    "years": hold.get("retention_years"),
                }
            )
    return holds
