"""Validating what a subject sends, the same way for the web form and the JSON API.

`validate(payload)` returns clean data or raises `IntakeError` whose `fields`
maps dotted paths (`details.changes.0.field`) to messages; the form shows
them beside its inputs, the API returns them as they are.
"""

from functools import cache

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates

import workflows
from dsr.i18n import LANGUAGES
from workflows.fields import Email, StrictSchema, Text, choice


class Identifiers(StrictSchema):
    """What connectors may match the person on besides the email."""

    phone = Text(
        32,
        validate=validate.Regexp(
            r"^\+?[0-9 ().-]{6,31}$", error=_l("Enter a phone number, such as +33 6 12 34 56 78.")
        ),
    )
    customer_number = Text(64)


class IntakeSchema(StrictSchema):
    """The envelope common to every type; `details` is checked by the type's own schema."""

    type = fields.String(required=True, error_messages={"required": _l("Choose a request type.")})
    email = Email(required=True)
    name = Text(200, required=True)
    identifiers = fields.Nested(Identifiers, load_default=dict)
    details = fields.Dict(
        load_default=dict, error_messages={"invalid": _l("Give an object of named fields.")}
    )
    language = choice(LANGUAGES)

    @validates("type")
    def known_type(self, value, **kwargs):
        if value not in workflows.names():
            raise ValidationError(
                _l("Unknown request type. Choose one of: {types}.").format(
                    types=", ".join(workflows.names())
                )
            )


class IntakeError(Exception):
    """The payload does not make a request; `fields` says what to fix, by path."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("invalid request")
        self.fields = fields


def flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested errors as {dotted.path: [message, ...]}, messages as text."""
    if isinstance(errors, list):
        if any(isinstance(e, (dict, list)) for e in errors):
            return flatten(dict(enumerate(errors)), prefix)
        return {prefix or "_schema": [str(message) for message in errors]}
    if not isinstance(errors, dict):
        return {prefix or "_schema": [str(errors)]}
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        path = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
        for sub_path, messages in flatten(value, path).items():
            flat.setdefault(sub_path, []).extend(messages)
    return flat


# A marshmallow 4 schema keeps no state between loads (there is no `context` any more),
# so one instance serves every request; building one deep-copies all its fields.
_intake_schema = IntakeSchema()


@cache
def details_schema(type_name: str) -> Schema:
    """The details schema of a registered type, built once."""
    return workflows.get(type_name).details_schema()


def validate_payload(payload, default_language: str) -> dict:
    """Clean data for a new request, or IntakeError."""
    if not isinstance(payload, dict):
        raise IntakeError({"_schema": [str(_l("Send a JSON object."))]})
    try:
        data = _intake_schema.load(payload)
    except ValidationError as exc:
        errors = dict(exc.messages)
        data = None
    else:
        errors = {}
    type_name = payload.get("type")
    if type_name in workflows.names() and isinstance(payload.get("details", {}), dict):
        schema = details_schema(type_name)
        try:
            details = schema.dump(schema.load(payload.get("details") or {}))
        except ValidationError as exc:
            errors["details"] = exc.messages
        else:
            if data is not None:
                data["details"] = details
    if errors:
        raise IntakeError(flatten(errors))
    data.setdefault("language", default_language)
    return data
