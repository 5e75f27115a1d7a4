"""The privacy team's pages: sign in, the queue of requests, and a case with its tasks.

Every page needs a signed-in account (`auth.role_required`); viewers read,
handlers also start processing, retry failed tasks and record the outcome of
tasks done by hand. Every POST carries a CSRF token, and answers with a
redirect back to the page (a reload never sends it twice).
"""

import logging
from functools import partial

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

import workflows
from dsr import (
    assignment,
    audit,
    caseload,
    decisions,
    directives,
    documents,
    processing,
    results,
    staff,
    suppression,
    systems,
)
from dsr.export.reading import has_pack
from dsr.extensions import db, limiter
from dsr.i18n import current_locale
from dsr.identity import claims, rerun, withheld
from dsr.letters.register import localized
from dsr.models import DataRequest, HeldStatus, StaffRole, Task
from dsr.operations import InvalidTransition
from dsr.release import answer, review, transmission
from dsr.status import RequestStatus
from dsr.web import case_details, forms, staff_text
from dsr.web.auth import note_sign_in, role_required, safe_next
from dsr.web.limits import add_retry_after
from dsr.web.staff_forms import LoginForm, OutcomeForm, ProveForm
from workflows import post_mortem

logger = logging.getLogger(__name__)

bp = Blueprint("staff", __name__, url_prefix="/staff")

VIEWER, HANDLER = StaffRole.VIEWER, StaffRole.HANDLER


@bp.after_request
def keep_private(response):
    """Case pages show personal data: never cached, never framed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.context_processor
def staff_globals() -> dict:
    return {
        "text": staff_text,
        "cell": staff_text.cell,
        "status_label": staff_text.status_label,
        "HANDLER": HANDLER,
        "connector_label": connector_label,
        "days_left": caseload.days_left,
        "statuses": list(RequestStatus),
    }


def connector_label(name: str) -> str:
    connector = systems.get(name)
    return connector.label if connector is not None else name


# --- signing in and out ---------------------------------------------------


def login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_IP"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], scope="login-ip", on_breach=add_retry_after)
def login():
    """The sign-in form; one message for every failure, so it tells nobody who has an account."""
    form = LoginForm()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("staff.queue"))
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        return render_template("staff/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("staff/login.html", form=form), 400
    user = staff.authenticate(form.email.data, form.password.data)
    db.session.commit()
    if user is None:
        failed = _(
            "Wrong email address or password, or the account is locked for a while. "
            "Try again later, or ask an administrator."
        )
        return render_template("staff/login.html", form=form, failed=failed)
    login_user(user)
    note_sign_in()
    logger.info("staff %s signed in", user.email)
    return redirect(safe_next(form.next.data) or url_for("staff.queue"), 303)


@bp.post("/logout")
def logout():
    """Sign out everywhere: every copy of this account's session cookie stops working."""
    if current_user.is_authenticated:
        staff.end_sessions(current_user)
        audit.record("staff.logout", actor=current_user.actor, data={"email": current_user.email})
        db.session.commit()
        logout_user()
    flash(_("You are signed out."))
    return redirect(url_for("staff.login"), 303)


# --- the queue ------------------------------------------------------------


@bp.get("/")
@role_required(VIEWER)
def queue():
    """Requests by deadline, earliest first, 25 a page, filtered by the query string."""
    try:
        filters = caseload.parse_filters(request.args)
    except caseload.FilterError as exc:
        page = render_template(
            "staff/queue.html", errors=exc.fields, page=None, filters=None, assignable=[]
        )
        return page, 400
    counts = caseload.status_counts(filters, me=current_user.id)
    return render_template(
        "staff/queue.html",
        errors={},
        filters=filters,
        page=caseload.search(filters, me=current_user.id, counts=counts),
        counts=counts,
        assignable=assignment.assignable_staff(),
        today=caseload.local_today(),
        page_url=page_url,
        status_url=status_url,
    )


def page_url(number: int) -> str:
    """This queue, same filters, another page."""
    args = {key: value for key, value in request.args.items() if key != "page"}
    return url_for("staff.queue", **args, page=number)


def status_url(status: str) -> str:
    """This queue, same filters, one status, from the first page."""
    args = {key: value for key, value in request.args.items() if key not in ("page", "status")}
    return url_for("staff.queue", **args, status=status)


# --- a case ---------------------------------------------------------------


def request_or_404(ref: str) -> DataRequest:
    return caseload.by_ref(ref) or abort(404)


def task_or_404(task_id: str) -> Task:
    return db.session.get(Task, task_id) or abort(404)


def preview_tables(read) -> tuple[list[tuple[str, list[str], list[dict]]], str | None]:
    """The first records of each table `read()` gives, with every column any of them has.

    Results that cannot be read (the key deleted, a file altered) give no
    table and a message to show in their place, never an error page.
    """
    try:
        previews = read()
    except results.ResultsUnreadable as exc:
        logger.warning("results cannot be read: %s", exc)
        return [], _(
            "These results cannot be read: their key was deleted, or a file was altered "
            "or cut short."
        )
    tables = []
    for table, records in previews.items():
        columns = list(dict.fromkeys(key for record in records for key in record))
        tables.append((table, columns, records))
    return tables, None


@bp.get("/requests/<ref>")
@role_required(VIEWER)
def case(ref: str):
    """The request, its tasks with a preview of what they returned, and its history."""
    req = request_or_404(ref)
    may_act = current_user.can(HANDLER)
    held = withheld.for_request(req)
    has_answer = answer.releasable(req)
    holds_data = workflows.get(req.type).holds_data(systems.case_of(req))
    shows_data = has_answer and holds_data
    going_out, going_out_error = (
        review.overview(req) if shows_data and req.status == RequestStatus.REVIEW else (None, None)
    )
    return render_template(
        "staff/case.html",
        req=req,
        days_left=caseload.days_left(req),
        labels=forms.LABELS,
        details=case_details.details(req),
        language_name=case_details.language_name,
        previews={
            task.id: preview_tables(partial(results.preview, task))
            for task in req.tasks
            if task.record_counts and not req.results_deleted_at
        },
        outcome_forms={
            task.id: OutcomeForm(prefix=task.id)
            for task in req.tasks
            if may_act and processing.awaits_outcome(task)
        },
        may_act=may_act,
        events=audit.events_for(req.id),
        identifiers=claims.identifiers(req),
        prove_forms=prove_forms(req) if may_act else {},
        withheld=held,
        # held records may be another person's: handlers decide, viewers see only the counts
        held_previews={
            task_id: preview_tables(partial(withheld.preview, answer))
            for task_id, answer in held.items()
            if may_act and answer.status == HeldStatus.HELD
        },
        rerunnable=[connector_label(task.connector) for task in rerun.rerunnable(req)],
        has_answer=has_answer,
        going_out=going_out,
        going_out_error=going_out_error,
        release_running=answer.release_in_progress(req),
        held_pending=any(a.status == HeldStatus.HELD for a in held.values()),
        pack_ready=may_act and has_pack(req),
        has_letter=workflows.get(req.type).answer_letter is not None,
        holds_data=holds_data,
        recipient=transmission.recipient(req),
        may_transmit=may_act and transmission.transmittable(req),
        erased_before=[
            found
            for found in suppression.matches(claims.proven_subject(req))
            if found.request_ref != req.ref
        ],
        lift_notice_days=current_app.config["RESTRICTION_LIFT_NOTICE_DAYS"],
        documents=documents.of_request(req) if req.type == "post_mortem" else [],
        document_kinds=documents.KINDS,
        **decision_context(req),
    )


def decision_context(req: DataRequest) -> dict:
    """What the case page's decisions section needs (`templates/staff/_decisions.html`)."""
    details = req.details or {}
    if req.type == "rectification":
        kind = "changes"
    elif req.type == "objection" and details.get("basis") != "direct_marketing":
        kind = "objection"
    elif req.type == "post_mortem" and details.get("mode") == "death_notice":
        kind = "death_notice"
    else:
        return {"decision_kind": None}
    language = current_locale()
    return {
        "decision_kind": kind,
        "decision_needed": workflows.get(req.type).missing_decision(details, req.decisions or {}),
        "decided_changes": {d["index"]: d for d in (req.decisions or {}).get("changes", [])},
        "correctable": decisions.correctable_fields(),
        "directive_found": (
            directives.in_force(details["deceased_email"])
            if kind == "death_notice" and details.get("deceased_email")
            else None
        ),
        "heirs_rights": post_mortem.HEIRS_RIGHTS,
        "directive_labels": post_mortem.DIRECTIVES,
        "objectable": [
            (activity.get("id"), localized(activity.get("purpose"), language))
            for activity in decisions.objectable_activities()
        ],
    }


def prove_forms(req: DataRequest) -> dict[tuple[str, str], ProveForm]:
    """A "mark as proven" form per identifier still to prove, keyed by (kind, normalised)."""
    return {
        (ident.kind, ident.normalised): ProveForm(
            prefix=f"prove-{ident.kind}-{n}", value=ident.value
        )
        for n, ident in enumerate(claims.identifiers(req))
        if not ident.is_proven
    }


def back_to(req: DataRequest, anchor: str = ""):
    return redirect(url_for("staff.case", ref=req.ref, _anchor=anchor or None), 303)


@bp.post("/requests/<ref>/start")
@role_required(HANDLER)
def start(ref: str):
    req = request_or_404(ref)
    try:
        processing.start(req, actor=current_user.actor)
    except InvalidTransition:
        db.session.rollback()
        flash(_("Processing starts only from an open request; this one is not open."), "error")
        return back_to(req)
    except processing.DecisionNeeded as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return back_to(req, "decisions")
    flash(_("Processing started."))
    return back_to(req, "tasks")


@bp.post("/tasks/<task_id>/retry")
@role_required(HANDLER)
def retry(task_id: str):
    task = task_or_404(task_id)
    try:
        processing.retry(task, actor=current_user.actor)
    except processing.NotAllowed as exc:
        db.session.rollback()
        flash(_("The task was not retried: %(reason)s", reason=str(exc)), "error")
        return back_to(task.request, "tasks")
    flash(_("The task is queued again."))
    return back_to(task.request, "tasks")


@bp.post("/tasks/<task_id>/outcome")
@role_required(HANDLER)
def outcome(task_id: str):
    task = task_or_404(task_id)
    form = OutcomeForm(prefix=task.id)
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return back_to(task.request, "tasks")
    try:
        processing.record_outcome(
            task,
            succeeded=form.result.data == "succeeded",
            note=form.note.data.strip(),
            actor=current_user.actor,
        )
    except processing.NotAllowed as exc:
        db.session.rollback()
        flash(_("The outcome was not recorded: %(reason)s", reason=str(exc)), "error")
        return back_to(task.request, "tasks")
    flash(_("Outcome recorded."))
    return back_to(task.request, "tasks")
