"""The case page's decisions before processing (`dsr.decisions`): accept or refuse each
change of a rectification, uphold or not an objection on grounds of a particular situation,
carry out a death notice once its documents are checked.

Views on the staff blueprint (`dsr.web.staff.bp`). Each POST carries its CSRF
token, needs the handler role, and redirects back to the case.
"""

from flask import flash, request
from flask_babel import gettext as _
from flask_login import current_user

from dsr import decisions, restriction
from dsr.extensions import db
from dsr.release import answer
from dsr.web.auth import role_required
from dsr.web.staff import HANDLER, back_to, bp, request_or_404


def recorded(req, record):
    try:
        record()
    except decisions.DecisionError as exc:
        db.session.rollback()
        flash(_("The decision was not recorded: %(reason)s", reason=str(exc)), "error")
        return back_to(req, "decisions")
    db.session.commit()
    flash(_("Decision recorded."))
    return back_to(req, "decisions")


@bp.post("/requests/<ref>/changes/<int:number>/decision")
@role_required(HANDLER)
def decide_change(ref: str, number: int):
    """Accept a requested change (naming the fields it corrects) or refuse it, with a reason."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    form = request.form
    return recorded(
        req,
        lambda: decisions.decide_change(
            req,
            number - 1,
            accepted=form.get("accepted") == "yes",
            fields=form.getlist("fields"),
            reason=form.get("reason"),
            actor=current_user.actor,
        ),
    )


@bp.post("/requests/<ref>/objection/decision")
@role_required(HANDLER)
def decide_objection(ref: str):
    """Uphold an objection for the activities named, or not, with the reasoning."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    form = request.form
    return recorded(
        req,
        lambda: decisions.decide_objection(
            req,
            upheld=form.get("upheld") == "yes",
            activity_ids=form.getlist("activities"),
            reasoning=form.get("reasoning"),
            actor=current_user.actor,
        ),
    )


@bp.post("/requests/<ref>/death-notice/decision")
@role_required(HANDLER)
def decide_death_notice(ref: str):
    """The death notice's documents are in order: carry out the directives, or the heirs'
    rights chosen."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    return recorded(
        req,
        lambda: decisions.decide_death_notice(
            req, heirs_rights=request.form.getlist("heirs_rights"), actor=current_user.actor
        ),
    )


@bp.post("/requests/<ref>/restriction/lift")
@role_required(HANDLER)
def announce_lift(ref: str):
    """Tell the person the restriction will be lifted, and why (Art. 18(3))."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    try:
        restriction.announce_lift(req, request.form.get("reason", ""), actor=current_user.actor)
    except restriction.RestrictionError as exc:
        db.session.rollback()
        flash(_("Nothing was announced: %(reason)s", reason=str(exc)), "error")
        return back_to(req, "restriction")
    db.session.commit()
    restriction.send_notice(req)
    flash(_("The person is told; the systems will be asked to lift it after the notice period."))
    return back_to(req, "restriction")
