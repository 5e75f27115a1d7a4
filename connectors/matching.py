"""Who the request is about, in the forms systems store it.

Systems write the same phone number in many ways (06 12 34 56 78,
+33612345678, 0033 6 12 34 56 78); every identifier is normalised once here
so that each connector compares like with like: emails lower-cased, phone
numbers in E.164 (national numbers read in the controller's country), customer
numbers without spaces and upper-cased.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import phonenumbers

#: identifier kinds a connector may match on (`match_on` in the instance TOML)
IDENTIFIER_KINDS = ("email", "phone", "customer_number")


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str, region: str = "FR") -> str | None:
    """E.164 (`+33612345678`), or None if `value` cannot be a phone number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_customer_number(value: str) -> str:
    return "".join(value.split()).upper()


NORMALISERS = {
    "email": normalise_email,
    "phone": normalise_phone,
    "customer_number": normalise_customer_number,
}


@dataclass(frozen=True)
class Subject:
    """The person a task is about, with normalised identifiers."""

    email: str
    name: str = ""
    phones: tuple[str, ...] = ()
    customer_numbers: tuple[str, ...] = ()

    @classmethod
    def from_request(
        cls, email: str, name: str = "", identifiers: Mapping | None = None, region: str = "FR"
    ) -> "Subject":
        """Build from a request's email, name and `identifiers` ({phone, customer_number})."""
        identifiers = identifiers or {}
        phones = [normalise_phone(p, region) for p in _as_list(identifiers.get("phone"))]
        customers = [
            normalise_customer_number(c) for c in _as_list(identifiers.get("customer_number"))
        ]
        return cls(
            email=normalise_email(email),
            name=name.strip(),
            phones=tuple(p for p in dict.fromkeys(phones) if p),
            customer_numbers=tuple(c for c in dict.fromkeys(customers) if c),
        )

    @classmethod
    def from_json(cls, data: Mapping, region: str = "FR") -> "Subject":
        """The inverse of `as_json`, normalising again (the sender may not have)."""
        return cls.from_request(
            data.get("email", ""), data.get("name", ""), data.get("identifiers"), region
        )

    def values(self, kind: str) -> tuple[str, ...]:
        """The subject's normalised identifiers of one kind."""
        if kind == "email":
            return (self.email,) if self.email else ()
        if kind == "phone":
            return self.phones
        if kind == "customer_number":
            return self.customer_numbers
        raise ValueError(f"unknown identifier kind {kind!r}; use one of {IDENTIFIER_KINDS}")

    def as_json(self) -> dict:
        """The `subject` object of a webhook notice."""
        identifiers = {}
        if self.phones:
            identifiers["phone"] = list(self.phones)
        if self.customer_numbers:
            identifiers["customer_number"] = list(self.customer_numbers)
        return {"email": self.email, "name": self.name, "identifiers": identifiers}


def _as_list(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]
