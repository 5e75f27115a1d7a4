"""The shared protocol pieces: identifier normalisation and the HMAC signature."""

import time

import pytest

from connectors import signature
from connectors.matching import Subject, normalise_phone
from connectors.signature import SignatureError, Verifier, sign, verify

SECRET = "s3cret"
BODY = b'{"status": "succeeded", "records": {}}'


@pytest.mark.parametrize(
    "written",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
    ],
)
def test_french_phone_formats_become_one_e164_number(written):
    assert normalise_phone(written) == "+33612345678"


@pytest.mark.parametrize("written", ["12", "not a phone", ""])
def test_what_cannot_be_a_phone_number_is_none(written):
    assert normalise_phone(written) is None


def test_subject_normalises_and_drops_invalid_phones():
    subject = Subject.from_request(
        " Alice.Martin@Example.FR ",
        "Alice Martin",
        {"phone": ["06 12 34 56 78", "+33612345678", "n/a"], "customer_number": "md 000123"},
    )
    assert subject == Subject(
        "alice.martin@example.fr", "Alice Martin", ("+33612345678",), ("MD000123",)
    )
    assert Subject.from_json(subject.as_json()) == subject
    assert subject.values("phone") == ("+33612345678",)


def test_signature_round_trip_whole_and_in_chunks():
    header = sign(SECRET, BODY)
    verify(SECRET, header, BODY)
    verifier = Verifier(SECRET, header)
    for start in range(0, len(BODY), 7):
        verifier.update(BODY[start : start + 7])
    verifier.verify()


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_stale_or_future_timestamp_is_refused(offset):
    header = sign(SECRET, BODY, timestamp=int(time.time()) + offset)
    with pytest.raises(SignatureError, match="more than 5 minutes"):
        verify(SECRET, header, BODY)


def test_a_wrong_secret_or_a_changed_body_is_refused():
    header = sign(SECRET, BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify("other", header, BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, header, BODY + b" ")


@pytest.mark.parametrize(
    "header", [None, "", "v1=abc", "t=123", "t=soon,v1=abc", "sha256=abc", "t=123;v1=abc"]
)
def test_a_missing_or_malformed_header_is_refused(header):
    with pytest.raises(SignatureError, match=signature.HEADER):
        verify(SECRET, header, BODY)


def test_one_matching_v1_among_several_is_enough_for_secret_rotation():
    now = int(time.time())
    old = sign("old-secret", BODY, now).split("v1=")[1]
    new = sign(SECRET, BODY, now).split("v1=")[1]
    verify(SECRET, f"t={now},v1={old},v1={new}", BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, f"t={now},v1={old},v1={'0' * 64}", BODY)
