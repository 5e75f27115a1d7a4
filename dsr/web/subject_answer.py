"""The status page's questions from the privacy team (Art. 12(6), `dsr.asking`): each with
the person's answer, and the form that answers the open one with a message and files
(`templates/subject/_questions.html`).

A view on the subject blueprint (`dsr.web.subject.bp`); like the death notice's upload,
it checks the CSRF token itself once the body may be as large as its files.
"""

from flask import current_app, flash, redirect, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from dsr import asking, documents
from dsr.extensions import csrf, db
from dsr.models import DataRequest
from dsr.release import answer as release
from dsr.web.subject import bp, render_status, status_request

#: what a multipart body carries besides its files (the message, the token, the boundaries)
FORM_ALLOWANCE = 64 * 1024


@bp.context_processor
def questions_context() -> dict:
    return {"question_panel": question_panel}


def question_panel(req: DataRequest) -> dict:
    """The request's questions with the files sent with each, and the one waiting."""
    return {
        "questions": [(q, asking.files_of(q)) for q in asking.questions_of(req)],
        "waiting": asking.open_question(req),
        "expires_on": asking.expires_on,
        "max_files": asking.ANSWER_FILES,
        "max_mb": format_decimal(current_app.config["DOCUMENT_MAX_BYTES"] / 1_000_000),
    }


def uploads() -> list:
    """The files chosen, as (stream, name); an empty file field sends a part without a name."""
    return [(f.stream, f.filename) for f in request.files.getlist("files") if f.filename]


@bp.post("/status/<token>/answer")
@csrf.exempt  # checked below, once the body may be as large as the files
def answer_question(token: str):
    """The person's answer to the open question: the request goes back where it was."""
    limit = current_app.config["DOCUMENT_MAX_BYTES"]
    request.max_content_length = asking.ANSWER_FILES * limit + FORM_ALLOWANCE
    req = release.locked(status_request(token).id)  # held until the commit
    text = request.form.get("answer", "")
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        error = _("This form has expired: send your answer again.")
        return render_status(req, token, code=400, error=error, answer_text=text)
    try:
        asking.answer(req, text, uploads())
    except (asking.AnswerRefused, documents.DocumentRefused) as exc:
        db.session.rollback()
        return render_status(req, token, code=exc.status, error=str(exc), answer_text=text)
    db.session.commit()
    flash(_("Thank you: we received your answer and continue with your request."))
    return redirect(url_for("subject.status", token=token, _anchor="questions"), 303)
