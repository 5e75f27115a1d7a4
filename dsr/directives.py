"""The register of post-mortem directives (Loi 78-17 Art. 85), for living people.

A verified `post_mortem` request in the "directives" mode asks no system: once
it starts, its type's "register_directives" effect records the directives here,
replacing the person's earlier ones (a person has one set in force), completes
the request and mails a confirmation. The person reads them on the request's
status page and may revoke them there. Rows are kept after revocation (with when
and why), for the record; a death notice looks up the set in force by the
deceased's email.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from connectors.matching import normalise_email
from dsr import after_commit, audit, mail
from dsr.extensions import db
from dsr.models import DataRequest, Directive
from dsr.models.types import utcnow
from dsr.operations import transition_to
from dsr.status import RequestStatus

#: why directives stopped being in force
REPLACED, REVOKED = "replaced", "revoked"


class DirectiveError(Exception):
    """A change to directives that cannot be made; the message says why."""


def in_force(email: str) -> Directive | None:
    """The directives in force for a person, by their email."""
    return db.session.scalars(
        select(Directive)
        .where(Directive.email == normalise_email(email), Directive.revoked_at.is_(None))
        .order_by(Directive.id.desc())
    ).first()


def of_request(request: DataRequest) -> Directive | None:
    return db.session.scalars(
        select(Directive).where(Directive.request_id == request.id).order_by(Directive.id.desc())
    ).first()


def register(request: DataRequest) -> Directive:
    """Record the request's directives, replacing those in force, and complete the request
    (in the caller's transaction, which holds the request's row); the person is mailed a
    confirmation once it commits."""
    details = request.details or {}
    now = utcnow()
    earlier = in_force(request.email)
    if earlier is not None:
        earlier.revoked_at, earlier.revoked_because = now, REPLACED
    directive = Directive(
        request_id=request.id,
        email=normalise_email(request.email),
        directive=details["directive"],
        trusted_person_name=details.get("trusted_person_name"),
        trusted_person_email=details.get("trusted_person_email"),
        instructions=details.get("instructions"),
        registered_at=now,
    )
    db.session.add(directive)
    audit.record(
        "directives.registered",
        actor="subject",
        request_id=request.id,
        data={"directive": directive.directive, "replaced": earlier is not None},
    )
    transition_to(request, RequestStatus.COMPLETED, actor="system", reason="directives registered")
    after_commit.later(mail.send_later, request.id, "directives_registered")
    return directive


def revoke(request: DataRequest) -> Directive:
    """The person revokes the directives this request registered (from its status page)."""
    directive = of_request(request)
    if directive is None or directive.revoked_at is not None:
        raise DirectiveError(_("These directives are no longer in force."))
    directive.revoked_at, directive.revoked_because = utcnow(), REVOKED
    audit.record("directives.revoked", actor="subject", request_id=request.id)
    after_commit.later(mail.send_later, request.id, "directives_revoked")
    return directive
