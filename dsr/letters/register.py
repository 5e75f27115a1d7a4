"""The processing register (Art. 30) of the instance TOML, read in one language for a letter."""

from collections.abc import Iterable, Mapping

from workflows.processing_register import scope_of


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
