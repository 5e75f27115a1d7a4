"""A request as its form asked it, for the case page: the form's labels and choices, not codes.

The handler reads "Why you ask for this: The data are no longer needed for their
purpose", not `ground: no_longer_necessary`; corrections read as a table, the
language by its name, consent purposes as the register's purposes, dates as dates.
"""

import datetime as dt
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError
from flask_babel import format_date

import workflows
from dsr import systems
from dsr.i18n import current_locale
from dsr.web import forms
from dsr.web.staff_text import cell

#: the columns of a rectification's table of corrections, as the form names them
CHANGE_COLUMNS = ("field", "current_value", "corrected_value")


@dataclass(frozen=True)
class Detail:
    """One line of the request's summary: a label and its text, or a table (`rows`)."""

    label: str
    text: str = ""
    #: a table's column headings and rows, for a list of records (corrections)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def language_name(code: str | None) -> str:
    """A language code as its name in the page's language ("en" -> "English", "anglais")."""
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(current_locale())
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


def chosen(choices: dict, value) -> str:
    """A value of a fixed choice as the form offered it; a list as its items' labels."""
    if isinstance(value, list):
        return ", ".join(chosen(choices, item) for item in value)
    label = choices.get(value)
    return str(label) if label is not None else cell(value)


def as_date(value) -> str:
    """An ISO date (as the details store it) in the page's language; anything else as is."""
    try:
        return format_date(dt.date.fromisoformat(value), "long")
    except (TypeError, ValueError):
        return cell(value)


def purposes() -> dict[str, str]:
    """The register's consent activities by id, as the consent-withdrawal form lists them."""
    activities = systems.register().get("activities", [])
    return dict(forms.consent_purposes(activities, current_locale()))


def changes_table(label: str, changes) -> Detail:
    """A rectification's corrections: one row each, under the form's own labels."""
    columns = [forms.LABELS[f"details.changes.#.{name}"] for name in CHANGE_COLUMNS]
    rows = [
        [cell(change.get(name)) for name in CHANGE_COLUMNS]
        for change in changes
        if isinstance(change, dict)
    ]
    return Detail(label, columns=[str(c) for c in columns], rows=rows)


def detail(type_name: str, key: str, value) -> Detail:
    """One of the request's `details` under its form label, its value in words."""
    path = f"details.{key}"
    label = str(forms.LABELS.get(path, key))
    choices = workflows.get(type_name).field_choices.get(path)
    if key == "changes" and isinstance(value, list):
        return changes_table(label, value)
    if choices:
        return Detail(label, chosen(choices, value))
    if key == "purposes":
        return Detail(label, chosen(purposes(), value))
    if key.startswith("date_"):
        return Detail(label, as_date(value))
    return Detail(label, cell(value))


def details(req) -> list[Detail]:
    """The request's identifiers and details, each under the label the person saw."""
    found = [
        Detail(str(forms.LABELS.get(f"identifiers.{key}", key)), cell(value))
        for key, value in (req.identifiers or {}).items()
    ]
    if req.type not in workflows.names():
        return found + [Detail(key, cell(value)) for key, value in (req.details or {}).items()]
    return found + [detail(req.type, key, value) for key, value in (req.details or {}).items()]
