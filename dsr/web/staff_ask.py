"""The case page's questions to the person (Art. 12(6), `dsr.asking`): the form that asks,
and each question with its answer and files (`templates/staff/_ask.html`).

Views on the staff blueprint (`dsr.web.staff.bp`); the partial gets what it shows from
`ask_panel(req)`, so the case view itself needs nothing of this.
"""

from flask import current_app, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from dsr import asking
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.release import answer
from dsr.web.auth import role_required
from dsr.web.staff import HANDLER, back_to, bp, request_or_404
from dsr.web.staff_forms import plain_text


class AskForm(FlaskForm):
    message = TextAreaField(
        _l("Your question (the person reads it in the email and on their status page)"),
        validators=[
            DataRequired(_l("Write the question for the person.")),
            Length(max=asking.TEXT_LIMIT),
            plain_text,
        ],
    )


@bp.context_processor
def ask_context() -> dict:
    return {"ask_panel": ask_panel}


def ask_panel(req: DataRequest) -> dict:
    """The questions with their files, and the form while one may be asked."""
    may_ask = current_user.can(HANDLER) and asking.refusal(req) is None
    return {
        "questions": [(q, asking.files_of(q)) for q in asking.questions_of(req)],
        "form": AskForm(prefix="ask") if may_ask else None,
        "reminder_days": current_app.config["ASK_REMINDER_DAYS"],
        "expiry_days": current_app.config["ASK_EXPIRY_DAYS"],
        "expires_on": asking.expires_on,
    }


@bp.post("/requests/<ref>/ask")
@role_required(HANDLER)
def ask(ref: str):
    """Ask the person; the request waits for their answer, its clock stopped."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    form = AskForm(prefix="ask")
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return back_to(req, "questions")
    try:
        asking.ask(req, form.message.data, actor=current_user.actor)
    except asking.AskRefused as exc:
        db.session.rollback()
        flash(_("Nothing was asked: %(reason)s", reason=str(exc)), "error")
        return back_to(req, "questions")
    db.session.commit()
    flash(_("The question is sent to the person; the clock is paused until they answer."))
    return back_to(req, "questions")
