"""The HMAC signature on callbacks and on webhook notices, both directions the same.

`X-DSR-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
A receiver rejects a signature older (or newer) than five minutes, which stops
a captured message from being replayed later. Several `v1=` values may be
given (a secret being rotated); one matching is enough.

`Signed.from_header` checks what can be checked before the body is read (the
header is there, well formed and fresh); `Verifier` then checks a body that
arrives in chunks, so a large callback is never held in memory just to check
its signature. A receiver that must not accept one message twice remembers
the v1 value `verify()` returns for longer than the tolerance.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

HEADER = "X-DSR-Signature"
#: how far `t` may be from the receiver's clock, in seconds
TOLERANCE = 300


class SignatureError(Exception):
    """The signature is missing, malformed, stale or wrong; the message says which."""


def _mac(secret: str, timestamp: int):
    return hmac.new(secret.encode(), f"{timestamp}.".encode(), hashlib.sha256)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`, signed now (or at `timestamp`)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    mac = _mac(secret, timestamp)
    mac.update(body)
    return f"t={timestamp},v1={mac.hexdigest()}"


def parse(header: str | None) -> tuple[int, list[str]]:
    """The timestamp and the v1 signatures of a header value."""
    if not header:
        raise SignatureError(f"the {HEADER} header is missing")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise SignatureError(f"the {HEADER} header must read t=<unix seconds>,v1=<hex digest>")
    return timestamp, signatures


@dataclass(frozen=True)
class Signed:
    """A header that is well formed and fresh: what can be checked before the body is read."""

    timestamp: int
    signatures: tuple[str, ...]

    @classmethod
    def from_header(cls, header: str | None, now: float | None = None) -> "Signed":
        """SignatureError if the header is missing, malformed, or too old (or too new)."""
        timestamp, signatures = parse(header)
        now = time.time() if now is None else now
        if abs(now - timestamp) > TOLERANCE:
            raise SignatureError(
                f"the signature's timestamp is more than {TOLERANCE // 60} minutes "
                "away from our clock"
            )
        return cls(timestamp, tuple(signatures))


class Verifier:
    """Checks a signature over a body fed in chunks: `update(...)`, then `verify()`.

    `header` is the header's value, or a `Signed` already checked for freshness.
    """

    def __init__(self, secret: str, header: "str | Signed | None", now: float | None = None):
        self.signed = header if isinstance(header, Signed) else Signed.from_header(header, now)
        self._mac = _mac(secret, self.signed.timestamp)

    def update(self, chunk: bytes) -> None:
        self._mac.update(chunk)

    def verify(self) -> str:
        """The v1 value that matches the body (SignatureError if none does)."""
        expected = self._mac.hexdigest()
        if not any(hmac.compare_digest(expected, given) for given in self.signed.signatures):
            raise SignatureError("the signature does not match the body")
        return expected


def verify(secret: str, header: str | None, body: bytes, now: float | None = None) -> str:
    """Check a whole body at once; SignatureError if it must be refused, else the matching v1."""
    verifier = Verifier(secret, header, now)
    verifier.update(body)
    return verifier.verify()
