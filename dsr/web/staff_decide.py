"""The case page's decisions that stretch or end a case, its notes and its duplicates
(`dsr.case_decisions`, `dsr.notes`, `dsr.duplicates`; `templates/staff/_decide.html`).

Views on the staff blueprint (`dsr.web.staff.bp`). Each POST carries its CSRF token,
needs the handler role, and redirects back to the case with what became of it.
"""

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user

from dsr import case_decisions, duplicates, exemptions, notes
from dsr.decisions import DecisionError
from dsr.extensions import db
from dsr.i18n import current_locale
from dsr.models import DataRequest
from dsr.release import answer
from dsr.web.auth import role_required
from dsr.web.decide_forms import CloseForm, ExtendForm, MergeForm, NoteForm, RejectForm
from dsr.web.staff import HANDLER, back_to, bp, request_or_404

ANCHOR = "decide"


@bp.app_template_global()
def decide_panel(req: DataRequest, may_act: bool) -> dict:
    """What `_decide.html` shows: notes, duplicates, and the handler's forms."""
    undecided = req.status_enum in case_decisions.UNDECIDED
    linked = duplicates.linked(req)
    mergeable = duplicates.mergeable_into(req, linked) if may_act else []
    return {
        "notes": notes.of_request(req),
        "duplicates": linked,
        "mergeable": {other.id for other in mergeable},
        "grounds": exemptions.GROUNDS,
        "exemption_label": lambda ident: exemptions.label(ident, current_locale()),
        "extend_form": ExtendForm(prefix="extend")
        if may_act and undecided and not req.extended_due_at
        else None,
        "reject_form": RejectForm(prefix="reject") if may_act and undecided else None,
        "close_form": CloseForm(prefix="close") if may_act and undecided else None,
        "note_form": NoteForm(prefix="note") if may_act and not req.anonymised_at else None,
    }


def form_errors(form) -> bool:
    """Flash what is wrong with a form that does not validate; True if something is."""
    if form.validate_on_submit():
        return False
    for messages in form.errors.values():
        for message in messages:
            flash(message, "error")
    return True


def decided(req: DataRequest, take, done: str):
    """Take the decision (a callable), commit, and come back with `done` or the reason."""
    try:
        after = take()
    except DecisionError as exc:
        db.session.rollback()
        flash(_("Nothing was recorded: %(reason)s", reason=str(exc)), "error")
        return back_to(req, ANCHOR)
    db.session.commit()
    if after:
        after()
    flash(done)
    return back_to(req, ANCHOR)


@bp.post("/requests/<ref>/extend")
@role_required(HANDLER)
def extend(ref: str):
    """Extend the deadline by one or two months, with reasons the person reads."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    form = ExtendForm(prefix="extend")
    if form_errors(form):
        return back_to(req, ANCHOR)

    def take():
        case_decisions.extend(
            req, form.reason.data, months=int(form.months.data), actor=current_user.actor
        )
        return lambda: case_decisions.send_extension(req)

    return decided(req, take, _("The deadline is extended; the person is told why."))


@bp.post("/requests/<ref>/reject")
@role_required(HANDLER)
def reject(ref: str):
    """Refuse the request on a ground, with the explanation the person reads."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    form = RejectForm(prefix="reject")
    if form_errors(form):
        return back_to(req, ANCHOR)

    def take():
        case_decisions.reject(
            req,
            form.ground.data,
            form.explanation.data,
            exemption=form.exemption.data or None,
            actor=current_user.actor,
        )
        return lambda: case_decisions.send_refusal(req)

    done = _("The request is refused; the person is told why, and how to contest it.")
    return decided(req, take, done)


@bp.post("/requests/<ref>/close")
@role_required(HANDLER)
def close(ref: str):
    """Complete the request without a pack: its answer went out by another channel."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    form = CloseForm(prefix="close")
    if form_errors(form):
        return back_to(req, ANCHOR)

    def take():
        case_decisions.close(req, form.reason.data, actor=current_user.actor)
        return lambda: case_decisions.send_closure(req)

    return decided(req, take, _("The request is closed."))


@bp.post("/requests/<ref>/notes")
@role_required(HANDLER)
def add_note(ref: str):
    """Keep a note on the case, for staff only."""
    req = request_or_404(ref)
    form = NoteForm(prefix="note")
    if form_errors(form):
        return back_to(req, ANCHOR)

    def take():
        notes.add(req, form.text.data, author=current_user.email, actor=current_user.actor)

    return decided(req, take, _("Note added."))


@bp.post("/requests/<ref>/merge")
@role_required(HANDLER)
def merge(ref: str):
    """Merge this request into an open duplicate, which answers for both."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    form = MergeForm()
    into = request_or_404(form.into.data) if not form_errors(form) else None
    if into is None:
        return back_to(req, ANCHOR)

    def take():
        duplicates.merge(req, into, actor=current_user.actor)
        return lambda: duplicates.send_notice(req, into)

    return decided(req, take, _("The request is merged into %(ref)s.", ref=into.ref))
