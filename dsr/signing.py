"""Signed links: one serializer, a named salt per purpose, every load with a max age.

A token only proves that we issued it. Single use is enforced by the caller:
the verification token carries a nonce stored on the request and cleared once
used, so a second click or an older link finds no match.
"""

from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class Purpose(StrEnum):
    """Why a link was issued; a token signed for one purpose fails for another."""

    VERIFY = "verify"
    STATUS = "status"
    DOWNLOAD = "download"
    INFO = "info"
    #: a portability pack's pull link, for the receiving controller (Art. 20(2))
    TRANSFER = "transfer"
    #: a staff account's new password (`dsr.password_reset`; the id is the account's)
    PASSWORD_RESET = "password-reset"


#: config key holding each purpose's lifetime in seconds
MAX_AGE_KEYS = {
    Purpose.VERIFY: "VERIFY_LINK_MAX_AGE",
    Purpose.STATUS: "STATUS_LINK_MAX_AGE",
    Purpose.DOWNLOAD: "DOWNLOAD_LINK_MAX_AGE",
    Purpose.INFO: "INFO_LINK_MAX_AGE",
    Purpose.TRANSFER: "TRANSFER_LINK_MAX_AGE",
    Purpose.PASSWORD_RESET: "PASSWORD_RESET_LINK_MAX_AGE",
}


class TokenError(Exception):
    """A link that cannot be honoured; `expired` tells the two cases apart."""

    def __init__(self, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class TokenPayload:
    request_id: int
    nonce: str | None = None


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"dsr.{purpose}")


def sign(purpose: Purpose, request_id: int, nonce: str | None = None) -> str:
    """A URL-safe token for `purpose` about one request."""
    body = [request_id] if nonce is None else [request_id, nonce]
    return _serializer(purpose).dumps(body)


def load(purpose: Purpose, token: str) -> TokenPayload:
    """Check a token's signature, purpose and age; raise TokenError if it fails."""
    max_age = current_app.config[MAX_AGE_KEYS[purpose]]
    try:
        body = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(expired=True) from exc
    except BadSignature as exc:
        raise TokenError(expired=False) from exc
    if not isinstance(body, list) or not body or not isinstance(body[0], int):
        raise TokenError(expired=False)
    return TokenPayload(body[0], body[1] if len(body) > 1 else None)
