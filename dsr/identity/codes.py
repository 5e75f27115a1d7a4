"""Proof of a phone number by a one-time code sent to it by text message.

A code has six digits, lives `CODE_MINUTES` and takes at most
`CODE_ATTEMPTS` wrong guesses, after which it is void (and the audit log says
so); the count is kept under a lock on the claim row, so guesses sent in
parallel each count. Asking for codes is rate-limited per request
(`RATELIMIT_SMS_CODE`) and per phone number (`RATELIMIT_SMS_PHONE`), and
checking them per request (`RATELIMIT_SMS_CODE_CHECK`): `dsr.web.limits`.
Only an HMAC of the code is stored, keyed with the app's secret and the claim,
so a copy of the database does not give the codes away.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from dsr import audit
from dsr.extensions import db
from dsr.identity import claims
from dsr.models import ClaimStatus, DataRequest, IdentityClaim, ProofMethod
from dsr.models.types import utcnow

#: how long a code may be used
CODE_MINUTES = 15
#: wrong codes accepted before the code is void
CODE_ATTEMPTS = 5
#: digits in a code
CODE_DIGITS = 6


class CodeRefused(claims.ClaimError):
    """No code can be checked now (none sent, expired, or used up); the message says why."""


def code_hash(claim: IdentityClaim, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"sms-code:{claim.id}:{code}".encode(), hashlib.sha256).hexdigest()


def issue(request: DataRequest, kind: str, value: str) -> tuple[IdentityClaim, str]:
    """A new code for one of the request's phone numbers; the caller commits, then sends it."""
    if kind != "phone":
        raise claims.NotClaimed(_("Only a phone number can be proven by a code."))
    claim = locked(claims.claim_for(request, kind, value))
    if claim.status == ClaimStatus.PROVEN:
        raise claims.AlreadyProven(_("This identifier is proven already."))
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    claim.code_hash, claim.code_attempts = code_hash(claim, code), 0
    claim.code_expires_at = utcnow() + timedelta(minutes=CODE_MINUTES)
    audit.record(
        "identity.code_sent",
        actor="subject",
        request_id=request.id,
        data={"kind": kind, "claim": claim.id},
    )
    return claim, code


def locked(claim: IdentityClaim) -> IdentityClaim:
    """The claim read again under a row lock held until the commit (PostgreSQL; SQLite's
    transactions take the write lock as they begin): parallel guesses wait their turn."""
    db.session.refresh(claim, with_for_update=True)
    return claim


def check(claim: IdentityClaim, code: str) -> bool:
    """Whether `code` is the claim's current code; a right one proves the phone.

    A wrong one counts; the last allowed wrong one voids the code. The caller commits.
    """
    locked(claim)
    if claim.code_hash is None:
        raise CodeRefused(_("No code is waiting: ask for a new one."))
    if claim.code_expires_at <= utcnow():
        raise CodeRefused(_("This code has expired: ask for a new one."))
    if hmac.compare_digest(code_hash(claim, code.strip()), claim.code_hash):
        claims.transition_claim(
            claim, ClaimStatus.PROVEN, actor="subject", method=ProofMethod.SMS_CODE
        )
        return True
    claim.code_attempts += 1
    if claim.code_attempts >= CODE_ATTEMPTS:
        claim.code_hash, claim.code_expires_at = None, None
        audit.record(
            "identity.code_failed",
            actor="subject",
            request_id=claim.request_id,
            data={
                "kind": claim.kind,
                "claim": claim.id,
                "attempts": claim.code_attempts,
            },
        )
    return False
