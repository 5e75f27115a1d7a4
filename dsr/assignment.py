"""Who looks after a case: a request assigned to an active handler or admin, or to nobody.

Like `dsr.operations`, `assign` changes the session and writes the audit
event; the caller commits. Viewers read cases but decide nothing, so a case
is never assigned to one, nor to a deactivated account.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from connectors.matching import normalise_email
from dsr import audit
from dsr.extensions import db
from dsr.models import DataRequest, StaffRole, StaffUser

#: the roles a case may be assigned to
ASSIGNABLE_ROLES = (StaffRole.HANDLER, StaffRole.ADMIN)


class AssignmentError(ValueError):
    """The address given is not that of an active handler or admin; the message says so."""


def assignable_staff() -> list[StaffUser]:
    """The active handlers and admins, by email: whom a case may be assigned to."""
    query = select(StaffUser).where(
        StaffUser.active.is_(True), StaffUser.role.in_([str(r) for r in ASSIGNABLE_ROLES])
    )
    return list(db.session.scalars(query.order_by(StaffUser.email)))


def assignee_for(email: str) -> StaffUser:
    """The active handler or admin with this address; AssignmentError otherwise."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None or not user.active or user.role not in ASSIGNABLE_ROLES:
        raise AssignmentError(
            _("%(email)s is not the address of an active handler or administrator.", email=email)
        )
    return user


def assign(request: DataRequest, user: StaffUser | None, *, actor: str) -> bool:
    """Give the case to `user` (None: to nobody); False, and no event, if nothing changes."""
    before = request.assignee
    if (before.id if before else None) == (user.id if user else None):
        return False
    request.assignee = user
    audit.record(
        "request.assigned",
        actor=actor,
        request_id=request.id,
        data={"from": before.email if before else None, "to": user.email if user else None},
    )
    return True
