"""Suppression records: an erased person recognised again without keeping their data.

When an erasure is carried out in every system, each of the person's identifiers
(the verified email, the proven phones and customer numbers, normalised as the
connectors compare them) is kept only as an HMAC-SHA256 under a key derived from
DSR_DATA_KEY, so the table names nobody and cannot be reversed by trying common
addresses without that key. Whoever holds an identifier can ask whether it was
erased (`flask dsr suppression check`, `POST /api/v1/suppressions/check`), so
that a re-import of the same person is stopped; the case page of any later
request from the same person says so.
"""

import hashlib
import hmac

from sqlalchemy import select

from connectors.matching import Subject
from dsr import audit, keys
from dsr.extensions import db
from dsr.identity import claims
from dsr.models import DataRequest, Suppression
from dsr.operations import controller_settings


def suppression_key() -> bytes:
    """A key of its own, derived from the master key (never the data keys themselves)."""
    return hmac.new(keys.master_key(), b"dsr suppression records v1", hashlib.sha256).digest()


def digest(kind: str, normalised: str) -> str:
    return hmac.new(suppression_key(), f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def identifiers_of(subject: Subject) -> list[tuple[str, str]]:
    """(kind, normalised value) of every identifier of `subject`."""
    return [
        *([("email", subject.email)] if subject.email else []),
        *(("phone", phone) for phone in subject.phones),
        *(("customer_number", number) for number in subject.customer_numbers),
    ]


def record(request: DataRequest) -> int:
    """Keep the erased person's identifiers as keyed hashes (in the caller's transaction);
    returns how many were new. An audit event says how many, never which."""
    pairs = identifiers_of(claims.proven_subject(request))
    known = set(
        db.session.scalars(
            select(Suppression.digest).where(
                Suppression.digest.in_([digest(kind, value) for kind, value in pairs])
            )
        )
    )
    added = 0
    for kind, value in pairs:
        hashed = digest(kind, value)
        if hashed not in known:
            db.session.add(Suppression(kind=kind, digest=hashed, request_ref=request.ref))
            known.add(hashed)
            added += 1
    audit.record(
        "suppression.recorded",
        actor="system",
        request_id=request.id,
        data={"identifiers": len(pairs), "new": added},
    )
    return added


def matches(subject: Subject) -> list[Suppression]:
    """The suppression records of any of `subject`'s identifiers."""
    wanted = [digest(kind, value) for kind, value in identifiers_of(subject)]
    return list(db.session.scalars(select(Suppression).where(Suppression.digest.in_(wanted))))


def check(email: str = "", phones=(), customer_numbers=()) -> list[Suppression]:
    """The records matching identifiers as anyone types them (normalised here)."""
    country, _tz = controller_settings()
    identifiers = {"phone": list(phones), "customer_number": list(customer_numbers)}
    return matches(Subject.from_request(email, "", identifiers, country))
