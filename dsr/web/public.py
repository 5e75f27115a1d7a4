"""The data subject's way in: the list of rights, the request form, "check your mailbox".

The form posts flat, dotted field names; `forms.unflatten` turns them into the
same payload the JSON API takes, and `dsr.intake` validates both alike. A new
request is stored `unverified` and only the emailed link confirms it.
"""

import logging

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from wtforms.validators import ValidationError

import workflows
from dsr import notify, operations, systems
from dsr.extensions import csrf, db
from dsr.i18n import current_locale
from dsr.intake import IntakeError, validate_payload
from dsr.web import forms
from dsr.web.limits import submission_limits, when_to_retry

logger = logging.getLogger(__name__)

bp = Blueprint("public", __name__)


def render_index(message: str | None = None, status: int = 200):
    """The eight rights, each linking to its form."""
    return render_template("public/index.html", message=message), status


def unknown_type():
    return render_index(_("There is no such request. Choose one of the rights below."), 404)


def requested_type():
    """The definition named by `?type=`, or None when there is none of that name."""
    try:
        return workflows.get(request.args.get("type", ""))
    except KeyError:
        return None


def chosen_branch(definition, values: MultiDict) -> str | None:
    """For a type whose form branches, the branch the person chose: the form's own input
    once sent, else the page's query parameter; None when none (or no such branch) is chosen.
    """
    path = forms.BRANCHES.get(definition.name)
    if path is None:
        return None
    value = values.get(path) or request.args.get(forms.branch_parameter(path), "")
    return value if value in forms.CHOICES[definition.name][path] else None


def branch_urls(definition) -> dict[str, str]:
    """For a type whose form branches, each branch's form by branch; else nothing."""
    path = forms.BRANCHES.get(definition.name)
    if path is None:
        return {}
    parameter = forms.branch_parameter(path)
    return {
        value: url_for("public.new_request", type=definition.name, **{parameter: value})
        for value in forms.CHOICES[definition.name][path]
    }


def render_form(
    definition,
    values: MultiDict | None = None,
    errors: dict | None = None,
    status: int = 200,
    notice: str | None = None,
):
    """The form for one type, with what was sent and the messages beside each input
    (`notice`: a message about the whole form, above it).

    A type whose form branches first shows the choice of branch alone, then the form
    with the chosen branch's fields only, and links to switch to the others.
    """
    errors = errors or {}
    values = values if values is not None else MultiDict()
    language = current_locale()
    activities = systems.register().get("activities", [])
    branch_path = forms.BRANCHES.get(definition.name)
    branch = chosen_branch(definition, values)
    urls = branch_urls(definition)
    return render_template(
        "public/form.html",
        definition=definition,
        values=values,
        errors=errors,
        summary=forms.error_summary(errors),
        notice=notice,
        choices=forms.CHOICES.get(definition.name, {}),
        consent_purposes=forms.consent_purposes(activities, language),
        forms=forms,
        branch_path=branch_path,
        branch=branch,
        branch_urls=urls,
        # the chosen branch stays in the page's address, for the language switch
        action=urls[branch] if branch else url_for("public.submit", type=definition.name),
    ), status


@bp.get("/")
def index():
    return render_index()


@bp.get("/requests/new")
def new_request():
    """Without a type, the list of rights; with one, its form."""
    if "type" not in request.args:
        return render_index()
    definition = requested_type()
    if definition is None:
        return unknown_type()
    return render_form(definition)


def refused_form(seconds: int):
    """Too many requests: the same form again, with what was typed and when to send it."""
    definition = requested_type()
    if definition is None:
        return unknown_type()[0], 429
    notice = _(
        "You have sent several requests in a short time, so this one was not sent. What you "
        "typed is kept below."
    )
    return render_form(
        definition, request.form, status=429, notice=f"{notice} {when_to_retry(seconds)}"
    )


@bp.post("/requests/new")
@csrf.exempt  # checked in the view, so that a stale token keeps what was typed
@submission_limits(refused_page=refused_form)
def submit():
    """Validate, store unverified, email the confirmation link, and say so."""
    definition = requested_type()
    if definition is None:
        return unknown_type()
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        message = _(
            "This form has expired or did not come from this site. Check your answers "
            "and send the form again."
        )
        return render_form(definition, request.form, {"csrf_token": [message]}, status=400)
    if request.form.get(forms.HONEYPOT, "").strip():
        logger.info("honeypot filled on the %s form; nothing stored", definition.name)
        return redirect(url_for("public.sent"), code=303)
    payload = forms.unflatten(request.form, list_fields=forms.LIST_FIELDS)
    payload["type"] = definition.name
    try:
        data = validate_payload(payload, default_language=current_locale())
    except IntakeError as exc:
        return render_form(definition, request.form, exc.fields, status=400)
    store_and_notify(data)
    return redirect(url_for("public.sent"), code=303)


def store_and_notify(data: dict) -> None:
    """Commit the request first, then enqueue the email, so the job always finds it."""
    req = operations.create_request(data, channel="web")
    db.session.commit()
    notify.send_verification(req)
    logger.info("request %s (%s) received from the web form", req.ref, req.type)


@bp.get("/requests/sent")
def sent():
    """The same page whatever was sent, so it tells nothing about any address."""
    hours = current_app.config["VERIFY_LINK_MAX_AGE"] // 3600
    return render_template("public/sent.html", hours=hours)
