"""Which identifiers a request claims, which are proven, and the one writer of a claim's status.

The verified email needs no claim: confirming the link proved it. Every
other identifier the subject typed (a phone number, a customer number) is
claimed until proven, and `proven_subject` (what connectors match on) holds
only the proven ones. A claim's status changes only through
`transition_claim`, which checks the table, records who and when, and writes
the audit event, whose data names the claim (kind and id) and never the
identifier, not even masked: the chain can never be edited later.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connectors.matching import NORMALISERS, Subject
from dsr import audit
from dsr.extensions import db
from dsr.identity.masking import mask
from dsr.models import ClaimStatus, DataRequest, IdentityClaim, ProofMethod
from dsr.models.types import utcnow
from dsr.operations import controller_settings

#: the identifiers a request may claim besides the email
KINDS = ("phone", "customer_number")

#: claim status -> the statuses it may move to
TRANSITIONS = {
    ClaimStatus.CLAIMED: frozenset({ClaimStatus.PROVEN}),
    ClaimStatus.PROVEN: frozenset(),
}


class ClaimError(Exception):
    """An identity decision that cannot be made; the message says why."""


class NotClaimed(ClaimError):
    """The value is not one of the request's claimed identifiers of that kind."""


class AlreadyProven(ClaimError):
    """The identifier was proven already."""


@dataclass(frozen=True)
class Identifier:
    """One identifier the subject gave, and its claim row if anything happened to it yet."""

    kind: str
    value: str
    normalised: str
    claim: IdentityClaim | None = None

    @property
    def status(self) -> str:
        return self.claim.status if self.claim else ClaimStatus.CLAIMED

    @property
    def is_proven(self) -> bool:
        return self.status == ClaimStatus.PROVEN

    @property
    def masked(self) -> str:
        return mask(self.kind, self.normalised)


def normalise(kind: str, value: str) -> str | None:
    """`value` as connectors compare it; None if it cannot be an identifier of `kind`."""
    if kind == "phone":
        return NORMALISERS["phone"](value, controller_settings()[0])
    return NORMALISERS[kind](value) or None


def given(request: DataRequest) -> list[tuple[str, str, str]]:
    """(kind, value as typed, normalised value) of every identifier the request gives."""
    found = {}
    for kind in KINDS:
        raw = (request.identifiers or {}).get(kind)
        for value in [raw] if isinstance(raw, str) else list(raw or []):
            normalised = normalise(kind, str(value))
            if normalised:
                found.setdefault((kind, normalised), str(value))
    return [(kind, value, normalised) for (kind, normalised), value in found.items()]


def identifiers(request: DataRequest) -> list[Identifier]:
    """The request's identifiers besides the email, each with its claim (if any)."""
    rows = db.session.scalars(select(IdentityClaim).where(IdentityClaim.request_id == request.id))
    claims = {(row.kind, row.normalised): row for row in rows}
    return [
        Identifier(kind, value, normalised, claims.get((kind, normalised)))
        for kind, value, normalised in given(request)
    ]


def still_to_prove(request: DataRequest) -> list[Identifier]:
    return [ident for ident in identifiers(request) if not ident.is_proven]


def proven_subject(request: DataRequest) -> Subject:
    """Who connectors look for: the verified email and the proven identifiers, nothing else;
    for a death notice whose documents a handler checked, the deceased."""
    if "death_notice" in (request.decisions or {}):
        return deceased(request)
    proven: dict[str, list[str]] = {}
    for ident in identifiers(request):
        if ident.is_proven:
            proven.setdefault(ident.kind, []).append(ident.normalised)
    country, _tz = controller_settings()
    return Subject.from_request(request.email, request.name, proven, region=country)


def subject_email(request: DataRequest) -> str:
    """The email address the systems look for: the verified one, or a death notice's
    deceased's once a handler checked the documents."""
    if "death_notice" in (request.decisions or {}):
        return (request.details or {}).get("deceased_email", "")
    return request.email


def deceased(request: DataRequest) -> Subject:
    """The person a death notice is about, as it names them: the handler's check of the death
    certificate and of the requester's quality is what proves them (Loi 78-17 Art. 85)."""
    details = request.details or {}
    country, _tz = controller_settings()
    return Subject.from_request(
        details.get("deceased_email", ""), details.get("deceased_name", ""), {}, region=country
    )


def unmatched_reason(request: DataRequest, match_on: tuple[str, ...]) -> str:
    """Why a system that finds people by `match_on` is skipped (a task's outcome)."""
    waiting = sorted({i.kind for i in still_to_prove(request) if i.kind in match_on})
    if waiting:
        return (
            f"the {' and '.join(waiting)} given is not proven yet, and this system finds "
            f"people by {' or '.join(match_on)} only"
        )
    return (
        f"the request gives no {' or '.join(match_on)}, which is what this system finds people by"
    )


def identifier_at(request: DataRequest, kind: str, position: str) -> Identifier:
    """The request's `position`-th identifier of `kind` (from 0, as the status page lists them).

    The subject's page names an identifier so, not by its value, which it shows masked only.
    """
    of_kind = [ident for ident in identifiers(request) if ident.kind == kind]
    if not (position.isascii() and position.isdigit() and int(position) < len(of_kind)):
        raise NotClaimed(_("This is not one of the identifiers the request gives."))
    return of_kind[int(position)]


def claim_for(request: DataRequest, kind: str, value: str) -> IdentityClaim:
    """The claim row of one of the request's identifiers, created if needed; NotClaimed if not."""
    normalised = normalise(kind, value) if kind in KINDS and value else None
    for ident in identifiers(request):
        if (ident.kind, ident.normalised) == (kind, normalised):
            return ident.claim or _create_claim(request, ident)
    raise NotClaimed(_("This is not one of the identifiers the request gives."))


def _create_claim(request: DataRequest, ident: Identifier) -> IdentityClaim:
    """The identifier's first claim row; the one a parallel transaction just created, if any."""
    claim = IdentityClaim(
        request_id=request.id,
        kind=ident.kind,
        value=ident.value,
        normalised=ident.normalised,
        status=ClaimStatus.CLAIMED,
        code_attempts=0,
    )
    try:
        with db.session.begin_nested():  # a savepoint: losing the race keeps the transaction
            db.session.add(claim)
    except IntegrityError:
        return db.session.scalars(
            select(IdentityClaim).where(
                IdentityClaim.request_id == request.id,
                IdentityClaim.kind == ident.kind,
                IdentityClaim.normalised == ident.normalised,
            )
        ).one()
    return claim


def transition_claim(
    claim: IdentityClaim,
    target: ClaimStatus,
    *,
    actor: str,
    method: ProofMethod,
    note: str | None = None,
) -> None:
    """Move a claim to `target` if the table allows it; record who, when, how, and audit it."""
    if target not in TRANSITIONS[ClaimStatus(claim.status)]:
        if claim.status == ClaimStatus.PROVEN:
            raise AlreadyProven(_("This identifier is proven already."))
        raise ClaimError(f"claim {claim.id}: {claim.status} -> {target} is not allowed")
    claim.status, claim.method, claim.note = target, method, note
    claim.decided_by, claim.decided_at = actor, utcnow()
    claim.code_hash, claim.code_expires_at = None, None
    audit.record(
        f"identity.{target}",
        actor=actor,
        request_id=claim.request_id,
        data={"kind": claim.kind, "claim": claim.id, "method": method},
    )


def prove_by_handler(
    request: DataRequest, kind: str, value: str, *, note: str, actor: str
) -> IdentityClaim:
    """A handler looked at what the subject sent and holds the identifier proven."""
    claim = claim_for(request, kind, value)
    transition_claim(claim, ClaimStatus.PROVEN, actor=actor, method=ProofMethod.HANDLER, note=note)
    return claim
