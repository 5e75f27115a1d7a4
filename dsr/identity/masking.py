"""Identifiers shown partly hidden, on the subject's pages and in what they are told.

`+33639980001` reads `+33 6 •• •• •• 01`: enough for a person to recognise
their number, not enough to call it.
"""

import phonenumbers

HIDDEN = "•"


def mask_phone(e164: str) -> str:
    """Country code, first and last two digits of an E.164 number; the rest hidden."""
    try:
        number = phonenumbers.parse(e164, None)
        shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        prefix = f"+{number.country_code}"
    except phonenumbers.NumberParseException:
        shown, prefix = e164, ""
    head, rest = shown[: len(prefix)], shown[len(prefix) :]
    digits = sum(c.isdigit() for c in rest)
    out, seen = [], 0
    for char in rest:
        if char.isdigit():
            seen += 1
            if 1 < seen <= digits - 2:
                char = HIDDEN
        out.append(char)
    return head + "".join(out)


def mask_text(value: str) -> str:
    """The first and last two characters of an identifier; the rest hidden."""
    if len(value) <= 4:
        return HIDDEN * len(value)
    return value[:2] + HIDDEN * (len(value) - 4) + value[-2:]


def mask(kind: str, normalised: str) -> str:
    """An identifier of `kind`, in its normalised form, partly hidden."""
    return mask_phone(normalised) if kind == "phone" else mask_text(normalised)
