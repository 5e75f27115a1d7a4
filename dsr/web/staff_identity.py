"""The case page's identity decisions: prove an identifier, run tasks again, release or discard.

Views on the staff blueprint (`dsr.web.staff.bp`), kept apart so that the
case page's identity work reads in one place. Each POST carries its CSRF
token, needs the handler role, and redirects back to the case.
"""

from flask import flash, request
from flask_babel import gettext as _
from flask_login import current_user

from dsr import processing
from dsr.extensions import db
from dsr.identity import claims, rerun, withheld
from dsr.operations import InvalidTransition
from dsr.task_status import InvalidTaskTransition
from dsr.web.auth import role_required
from dsr.web.staff import HANDLER, back_to, bp, request_or_404, task_or_404
from dsr.web.staff_forms import ProveForm


def flash_errors(form) -> None:
    for messages in form.errors.values():
        for message in messages:
            flash(message, "error")


@bp.post("/requests/<ref>/identifiers/<kind>/prove")
@role_required(HANDLER)
def prove(ref: str, kind: str):
    """Mark a claimed identifier as proven, with the handler's note."""
    req = request_or_404(ref)
    form = ProveForm(prefix=request.form.get("prefix", ""))
    if not form.validate_on_submit():
        flash_errors(form)
        return back_to(req, "identifiers")
    try:
        claims.prove_by_handler(
            req, kind, form.value.data, note=form.note.data.strip(), actor=current_user.actor
        )
    except claims.ClaimError as exc:
        db.session.rollback()
        flash(_("The identifier was not marked as proven: %(reason)s", reason=str(exc)), "error")
        return back_to(req, "identifiers")
    db.session.commit()
    flash(_("The identifier is proven; systems may now find the person by it."))
    return back_to(req, "identifiers")


@bp.post("/requests/<ref>/rerun")
@role_required(HANDLER)
def run_again(ref: str):
    """Run again the tasks that the identifiers proven since could let find more."""
    req = request_or_404(ref)
    try:
        rerun.rerun(req, actor=current_user.actor)
    except processing.NotAllowed as exc:
        db.session.rollback()
        flash(_("Nothing was run again: %(reason)s", reason=str(exc)), "error")
        return back_to(req, "identifiers")
    except (InvalidTransition, InvalidTaskTransition):
        db.session.rollback()
        flash(
            _("Nothing was run again: the request changed meanwhile; see where it stands."), "error"
        )
        return back_to(req, "identifiers")
    flash(_("The tasks run again with the proven identifiers."))
    return back_to(req, "tasks")


@bp.post("/tasks/<task_id>/withheld/<decision>")
@role_required(HANDLER)
def decide_withheld(task_id: str, decision: str):
    """Release a withheld answer into the results, or discard it."""
    task = task_or_404(task_id)
    act = {"release": withheld.release, "discard": withheld.discard}.get(decision)
    if act is None:
        flash(_("Choose to release or to discard."), "error")
        return back_to(task.request, "tasks")
    try:
        act(task, actor=current_user.actor)
    except withheld.WithheldError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return back_to(task.request, "tasks")
    db.session.commit()
    if decision == "release":
        flash(_("The withheld records are released into the results."))
    else:
        flash(_("The withheld records are discarded."))
    return back_to(task.request, "tasks")
