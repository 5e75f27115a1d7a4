"""Schema fields whose error messages speak the subject's language.

Messages are lazy strings: they are translated when the error is rendered,
in the language of the request being answered.
"""

import datetime as dt
import unicodedata

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

REQUIRED = _l("This field is required.")
NULL = _l("This field may not be empty.")
NOT_TEXT = _l("Enter text here.")
ONE_LINE = _l("Write this on one line, without line breaks or control characters.")
CONTROL = _l("Remove the control characters from this text.")

#: what a free text may hold of the characters below: line breaks and tabs
MULTILINE_ALLOWED = frozenset("\n\r\t")


def forbidden_characters(text: str, multiline: bool) -> bool:
    """Whether `text` holds a control character or a line or paragraph separator (Unicode
    categories Cc, Zl, Zp), beyond the line breaks and tabs a multi-line text may hold.

    A one-line value (a name, an identifier) is copied into email headers and bodies:
    a line break there would let anyone write the controller's email for it.
    """
    allowed = MULTILINE_ALLOWED if multiline else frozenset()
    return any(
        unicodedata.category(char) in ("Cc", "Zl", "Zp") and char not in allowed for char in text
    )


class Text(fields.String):
    """A trimmed string of bounded length; blank counts as missing.

    One line unless `multiline` (free-text descriptions): no control character in
    either, except line breaks and tabs in a multi-line text.
    """

    def __init__(self, max_length: int, required: bool = False, multiline: bool = False, **kwargs):
        kwargs.setdefault(
            "validate", validate.Length(max=max_length, error=_l("Use at most {max} characters."))
        )
        super().__init__(
            required=required,
            error_messages={"required": REQUIRED, "null": NULL, "invalid": NOT_TEXT},
            **kwargs,
        )
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if forbidden_characters(text, self.multiline):
            raise ValidationError(CONTROL if self.multiline else ONE_LINE)
        text = text.strip()
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


# --- what the OpenAPI document adds to a schema (`openapi_rules`, see dsr.web.openapi) ----


def none_of(keys) -> dict:
    """JSON Schema: none of these keys is present."""
    return {"not": {"anyOf": [{"required": [key]} for key in keys]}}


def dates_until_pattern(last: dt.date | None = None) -> str:
    """A regular expression for the strings `YYYY-MM-DD` that come no later than `last`
    (today by default): with equal widths, they compare digit by digit, so each branch
    keeps the first digits of `last` and takes a smaller one after them."""
    text = (last or dt.date.today()).isoformat()

    def shape(rest: str) -> str:
        return "".join("-" if char == "-" else "[0-9]" for char in rest)

    branches = [
        f"{text[:i]}[0-{int(char) - 1}]{shape(text[i + 1 :])}"
        for i, char in enumerate(text)
        if char not in "-0"
    ]
    return rf"^({'|'.join([*branches, text])})$"
