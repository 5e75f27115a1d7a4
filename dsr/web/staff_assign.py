"""The case page's assignment (`templates/staff/_assign.html`): who looks after the case.

A view on the staff blueprint (`dsr.web.staff.bp`); the POST carries its CSRF
token, needs the handler role, and redirects back to the case.
"""

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField

from dsr import assignment
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.release import answer
from dsr.web.auth import role_required
from dsr.web.staff import HANDLER, back_to, bp, request_or_404


class AssignForm(FlaskForm):
    """The handler or admin who looks after a case; the empty choice: nobody."""

    assignee = SelectField(
        _l("Assigned to"), validate_choice=True, choices=[SelectChoice("", _l("Nobody"))]
    )

    @classmethod
    def for_request(cls, req: DataRequest, **kwargs) -> "AssignForm":
        form = cls(prefix="assign", **kwargs)
        form.assignee.choices = [SelectChoice("", _("Nobody"))] + [
            SelectChoice(user.email, user.email) for user in assignment.assignable_staff()
        ]
        if not form.is_submitted():
            form.assignee.data = req.assignee.email if req.assignee else ""
        return form


@bp.context_processor
def assign_form() -> dict:
    """The case page builds its form with `assign_form(req)` (handlers and admins only)."""
    return {"assign_form": AssignForm.for_request}


@bp.post("/requests/<ref>/assign")
@role_required(HANDLER)
def assign(ref: str):
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    form = AssignForm.for_request(req)
    if not form.validate_on_submit():
        db.session.rollback()
        flash(_("Choose an active handler or administrator, or nobody."), "error")
        return back_to(req, "assignment")
    user = assignment.assignee_for(form.assignee.data) if form.assignee.data else None
    if assignment.assign(req, user, actor=current_user.actor):
        flash(
            _("The case is assigned to %(email)s.", email=user.email)
            if user
            else _("The case is assigned to nobody.")
        )
    db.session.commit()
    return back_to(req, "assignment")
