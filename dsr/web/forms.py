"""The request form's plumbing: flat form fields to the intake payload, labels, errors.

The HTML form names its inputs with the dotted paths that `dsr.intake` uses
in its errors (`details.changes.0.field`), so one name ties an input, its
value in the payload and the message shown beside it.
"""

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

import workflows
from dsr.letters.register import localized

#: form fields that never reach the payload: the CSRF token and the honeypot
IGNORED = frozenset({"csrf_token", "website"})
#: the honeypot's name: people never see it, bots fill it
HONEYPOT = "website"
#: inputs that may repeat (checkboxes plus an "other" text), kept as lists
LIST_FIELDS = frozenset({"details.purposes"})

#: what the inputs every type shares are called; each type's own are its `field_labels`
COMMON_LABELS = {
    "email": _l("Email address"),
    "name": _l("Full name"),
    "language": _l("Language"),
    "identifiers.phone": _l("Phone number"),
    "identifiers.customer_number": _l("Customer number"),
    "details.note": _l("Anything you want to add"),
}

#: what each input is called, for its label and the error summary (`#`: a row number);
#: types that share an input name give it the same label
LABELS = {
    **COMMON_LABELS,
    **{path: label for d in workflows.definitions() for path, label in d.field_labels.items()},
}

#: the fixed choices each type's form offers, by input name
CHOICES = {d.name: d.field_choices for d in workflows.definitions() if d.field_choices}

#: types whose form asks different things in different cases: the input that says which
#: case. The person chooses the case first (the page's query parameter of the same last
#: name, `?mode=`), and the form shows only that case's fields.
BRANCHES = {"post_mortem": "details.mode"}


def branch_parameter(path: str) -> str:
    """The page's query parameter that chooses the branch of the input at `path`."""
    return path.rsplit(".", 1)[-1]


def unflatten(form: MultiDict, list_fields: Iterable[str] = LIST_FIELDS) -> dict:
    """The form as the intake payload: dotted names to nested dicts, numbered rows to lists.

    Blank inputs are dropped, so an untouched optional field or row is simply absent
    (as in a JSON request) instead of failing as "required".
    """
    list_fields = frozenset(list_fields)
    tree: dict = {}
    for name in form:
        if name in IGNORED:
            continue
        values = [v for v in form.getlist(name) if isinstance(v, str) and v.strip()]
        if not values:
            continue
        _insert(tree, name.split("."), values if name in list_fields else values[0])
    return _listify(tree)


def _insert(tree: dict, parts: list[str], value) -> None:
    """Put `value` at `parts`; a name that clashes with another (`a` and `a.b`) is ignored."""
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    if parts[-1] not in node:
        node[parts[-1]] = value


def _listify(node):
    """Dicts keyed only by numbers become lists in number order, without empty rows."""
    if not isinstance(node, dict):
        return node
    children = {key: _listify(value) for key, value in node.items()}
    if children and all(key.isdigit() for key in children):
        return [children[key] for key in sorted(children, key=int) if children[key]]
    return children


def consent_purposes(activities: list[dict], language: str) -> list[tuple[str, str]]:
    """(activity id, purpose in `language`) for each register activity based on consent."""
    return [
        (str(activity["id"]), localized(activity.get("purpose"), language) or str(activity["id"]))
        for activity in activities
        if activity.get("legal_basis") == "consent" and activity.get("id")
    ]


def field_id(path: str) -> str:
    """The HTML id of the input for `path` (also the error summary's link target)."""
    return "f-" + path.replace(".", "-")


def _generic(path: str) -> str:
    return ".".join("#" if part.isdigit() else part for part in path.split("."))


def label_for(path: str) -> str:
    """What the person calls the field at `path`; rows are numbered from 1."""
    label = LABELS.get(_generic(path))
    if label is None:
        return ""
    rows = [int(part) + 1 for part in path.split(".") if part.isdigit()]
    if rows and not any(path.startswith(name + ".") for name in LIST_FIELDS):
        return _("Correction %(number)s: %(label)s", number=rows[0], label=label)
    return str(label)


def anchor_for(path: str) -> str:
    """Where the summary links for `path`: an item of a repeated field goes to the group."""
    for name in LIST_FIELDS:
        if path.startswith(name + "."):
            return field_id(name)
    return field_id(path)


def error_summary(errors: dict[str, list[str]]) -> list[dict]:
    """One line per message for the box at the top of the form, linking to the field."""
    return [
        {"anchor": anchor_for(path), "label": label_for(path), "message": message}
        for path, messages in errors.items()
        for message in messages
    ]


def errors_under(errors: dict[str, list[str]], path: str) -> list[str]:
    """Messages for `path` and anything below it (a group shows its items' messages)."""
    return [
        message
        for key, messages in errors.items()
        if key == path or key.startswith(path + ".")
        for message in messages
    ]
