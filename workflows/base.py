"""The definition of a request type: one class per right, as Indico's request types.

A definition says what the type is called, which law it rests on, what the
subject must tell us about it (`details_schema`) and whether processing starts
by itself once the email address is confirmed. The request row stores only the
type's `name`; the registry finds the definition again.
"""

from marshmallow import Schema


class RequestType:
    """Base of the eight request types; subclasses fill in the class attributes."""

    #: the public type string (the API's and the database's)
    name: str = ""
    #: the right in plain words, translated lazily
    title = ""
    #: one sentence the form shows under the title
    description = ""
    #: the legal basis shown on the form and in letters
    legal_basis: str = ""
    #: marshmallow schema of the `details` object; empty for types that need none
    details_schema: type[Schema] = Schema
    #: start processing as soon as the request is verified, without a handler
    auto_start: bool = False

    @classmethod
    def starts_itself(cls, details: dict) -> bool:
        """Whether processing starts once the request is verified, without a handler."""
        return cls.auto_start

    @classmethod
    def form_template(cls) -> str:
        """The template holding this type's form fields."""
        return f"public/details/{cls.name}.html"
