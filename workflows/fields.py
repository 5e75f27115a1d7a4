"""Schema fields whose error messages speak the subject's language.

Messages are lazy strings: they are translated when the error is rendered,
in the language of the request being answered.
"""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

REQUIRED = _l("This field is required.")
NULL = _l("This field may not be empty.")
NOT_TEXT = _l("Enter text here.")


class Text(fields.String):
    """A trimmed string of bounded length; blank counts as missing."""

    def __init__(self, max_length: int, required: bool = False, **kwargs):
        kwargs.setdefault(
            "validate", validate.Length(max=max_length, error=_l("Use at most {max} characters."))
        )
        super().__init__(
            required=required,
            error_messages={"required": REQUIRED, "null": NULL, "invalid": NOT_TEXT},
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ValidationError(REQUIRED)
        return text


class Email(fields.String):
    """An email address, trimmed, at most 254 characters."""

    def __init__(self, required: bool = False, **kwargs):
        super().__init__(
            required=required,
            validate=[
                validate.Email(error=_l("Enter a valid email address, such as name@example.com.")),
                validate.Length(max=254, error=_l("Use at most {max} characters.")),
            ],
            error_messages={"required": REQUIRED, "null": NULL, "invalid": NOT_TEXT},
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def choice(choices, required: bool = False, **kwargs) -> fields.String:
    """One of a fixed set of strings."""
    return fields.String(
        required=required,
        validate=validate.OneOf(list(choices), error=_l("Choose one of: {choices}.")),
        error_messages={"required": REQUIRED, "null": NULL, "invalid": NOT_TEXT},
        **kwargs,
    )


def text_list(max_length: int, max_items: int, required: bool = False) -> fields.List:
    """A list of short texts, at least one when required."""
    return fields.List(
        Text(max_length),
        required=required,
        validate=validate.Length(
            min=1 if required else 0, max=max_items, error=_l("Give between {min} and {max} items.")
        ),
        error_messages={"required": REQUIRED, "null": NULL, "invalid": _l("Give a list.")},
    )


def date(required: bool = False) -> fields.Date:
    return fields.Date(
        required=required,
        error_messages={
            "required": REQUIRED,
            "null": NULL,
            "invalid": _l("Enter a date as YYYY-MM-DD."),
        },
    )


class StrictSchema(Schema):
    """A schema that refuses unknown fields, with translated messages."""

    error_messages = {
        "unknown": _l("Unknown field."),
        "type": _l("Give an object of named fields."),
    }
