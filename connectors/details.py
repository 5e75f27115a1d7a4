"""The `details` of a task notice, per action, as the engine fills them (README, "The
connector protocol"), read once here for every kind that acts on them.

- `erase`: `{"keep": ["customers.name", "invoices"]}`, this system's fields under a
  legal hold ("table" or "table.column", without the connector's prefix);
- `rectify`: `{"changes": [{"field": "contacts.postal_address", "old": ..., "new": ...}]}`;
- `object`: `{"activities": [...], "direct_marketing": bool}`; `withdraw_consent`:
  `{"activities": [...]}`: register activity ids;
- `restrict`, `lift_restriction`: `{}`.

A malformed value raises `BadDetails`, whose message says what is wrong; a
system answers it as a failed task.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class BadDetails(ValueError):
    """The notice's details do not have the shape the protocol gives them."""


@dataclass(frozen=True)
class Field:
    """`invoices` (the whole table: `column` is None) or `customers.name`."""

    table: str
    column: str | None = None

    @classmethod
    def parse(cls, text) -> "Field":
        if not isinstance(text, str) or not text or text.count(".") > 1:
            raise BadDetails(f"a field is 'table' or 'table.column', not {text!r}")
        table, _, column = text.partition(".")
        if not table or (_ and not column):
            raise BadDetails(f"a field is 'table' or 'table.column', not {text!r}")
        return cls(table, column or None)

    def __str__(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table


@dataclass(frozen=True)
class Change:
    """One accepted rectification: set `field` (a column) to `new`."""

    field: Field
    old: Any
    new: Any


def _details(details) -> Mapping:
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise BadDetails("details must be a JSON object")
    return details


def _list(details, key: str) -> list:
    value = _details(details).get(key, [])
    if not isinstance(value, list):
        raise BadDetails(f"details.{key} must be a list")
    return value


def kept(details) -> list[Field]:
    """The fields an erasure keeps (`details.keep`); [] when nothing is held."""
    return [Field.parse(text) for text in _list(details, "keep")]


def changes(details) -> list[Change]:
    """The changes of a rectification (`details.changes`), at least one."""
    found = []
    for number, change in enumerate(_list(details, "changes")):
        if not isinstance(change, Mapping) or "new" not in change:
            raise BadDetails(f"details.changes.{number} must be an object with field and new")
        field = Field.parse(change.get("field"))
        if field.column is None:
            raise BadDetails(f"details.changes.{number}: {field} names no column")
        found.append(Change(field, change.get("old"), change["new"]))
    if not found:
        raise BadDetails("details.changes is empty: there is nothing to rectify")
    return found


def activities(details) -> list[str]:
    """The register activity ids an objection or a consent withdrawal names, at least one."""
    named = _list(details, "activities")
    if not named or not all(isinstance(a, str) and a for a in named):
        raise BadDetails("details.activities must name at least one activity id")
    return list(dict.fromkeys(named))
