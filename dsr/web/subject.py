"""The subject's signed-link pages: confirm the address, follow the case, withdraw, resend.

Every view starts from a signed token. `link_request` (and its two callers
`pending_verification` and `status_request`) turn a bad token into a page
that says what happened and what to do, through the `LinkRefused` handler,
so the views stay thin. A GET never changes anything: mail scanners prefetch
links, so only the confirm page's POST verifies a request.
"""

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import validate_csrf
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from wtforms.validators import ValidationError

from dsr import asking, audit, directives, documents, notify, operations, processing, signing, sms
from dsr.export.errors import PackUnavailable
from dsr.extensions import csrf, db
from dsr.identity import claims, codes
from dsr.identity.masking import mask
from dsr.models import DataRequest, TaskStatus
from dsr.release import answer, links, transmission
from dsr.signing import Purpose, TokenError
from dsr.status import RequestStatus
from dsr.web import subject_timeline
from dsr.web.downloads import pack_response
from dsr.web.limits import (
    limit_code_checks,
    limit_codes,
    limit_codes_per_phone,
    resend_limits,
    when_to_retry,
)
from workflows import post_mortem
from workflows.fields import Email

logger = logging.getLogger(__name__)

bp = Blueprint("subject", __name__)

S = RequestStatus

#: what happens next, in one line, for each status
NEXT_STEPS = {
    S.UNVERIFIED: _l(
        "Confirm your email address with the link we sent you; we start once it is confirmed."
    ),
    S.OPEN: _l("Your request is in our queue; the privacy team will take it up shortly."),
    S.PROCESSING: _l("We are handling your request in the systems that hold your data."),
    S.REVIEW: _l("The privacy team is checking our answer before we send it to you."),
    S.COMPLETED: _l("We have answered your request; see the email we sent you."),
    S.AWAITING_SUBJECT: _l(
        "We need information from you: see the email we sent you. We continue once we receive it."
    ),
    S.REJECTED: _l(
        "We refused this request; our email gives the reasons and how to contest the decision."
    ),
    S.WITHDRAWN: _l("You withdrew this request; nothing more will be done."),
    S.EXPIRED: _l(
        "The email address was never confirmed, so the request was closed. "
        "You may send a new request."
    ),
}

#: the next step of a request closed because our question went unanswered (`dsr.asking`)
NO_ANSWER = _l(
    "We closed this request because we did not receive an answer to our question in time. "
    "You may send a new request."
)


@bp.after_request
def keep_links_private(response):
    """The token in the URL is the key to the case: never cached, never indexed (and never
    sent to another site as a Referer: `dsr.web.headers`)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


class LinkRefused(Exception):
    """A signed link we will not honour; `problem` is "expired", "invalid", "used" or
    "unavailable" (a download link whose answer is not, or no longer, there)."""

    STATUS = {"expired": 410, "invalid": 400, "used": 409, "unavailable": 404}

    def __init__(self, problem: str, purpose: Purpose):
        super().__init__(problem)
        self.problem, self.purpose = problem, purpose


@bp.errorhandler(LinkRefused)
def link_refused(exc: LinkRefused):
    """The page for a link that failed: what happened and what the person can do."""
    page = render_template("subject/link_problem.html", problem=exc.problem, purpose=exc.purpose)
    return page, LinkRefused.STATUS[exc.problem]


def link_request(purpose: Purpose, token: str) -> tuple[signing.TokenPayload, DataRequest | None]:
    """Check a token's signature, purpose and age, and fetch the request it names."""
    try:
        payload = signing.load(purpose, token)
    except TokenError as exc:
        raise LinkRefused("expired" if exc.expired else "invalid", purpose) from exc
    return payload, db.session.get(DataRequest, payload.request_id)


def pending_verification(token: str) -> tuple[signing.TokenPayload, DataRequest]:
    """The request a verification link may still confirm; anything else reads "used"."""
    payload, req = link_request(Purpose.VERIFY, token)
    if (
        req is None
        or req.status != S.UNVERIFIED
        or not payload.nonce
        or req.verify_nonce != payload.nonce
    ):
        raise LinkRefused("used", Purpose.VERIFY)
    return payload, req


def status_request(token: str) -> DataRequest:
    """The request a status link is about."""
    _payload, req = link_request(Purpose.STATUS, token)
    if req is None:
        raise LinkRefused("invalid", Purpose.STATUS)
    return req


def render_status(
    req: DataRequest, token: str, *, error: str | None = None, code: int = 200, **extra
):
    """The status page, with an optional message about the last action; `extra` for the
    page's parts (what the person typed, shown again with the error)."""
    page = render_template(
        "subject/status.html",
        req=req,
        token=token,
        status=req.status_enum,
        next_step=NO_ANSWER if asking.expired_unanswered(req) else NEXT_STEPS[req.status_enum],
        timeline=subject_timeline.timeline(audit.events_for(req.id)),
        identifiers=claims.identifiers(req),
        may_prove=may_prove(req),
        code_minutes=codes.CODE_MINUTES,
        work_stopped=any(task.status == TaskStatus.CANCELLED for task in req.tasks),
        download_url=url_for("subject.download", token=links.download_token(req))
        if links.downloadable(req)
        else None,
        directive=directives.of_request(req) if req.type == "post_mortem" else None,
        documents=documents.of_request(req) if req.type == "post_mortem" else [],
        takes_documents=documents.accepting(req),
        document_kinds=documents.KINDS,
        directive_labels=post_mortem.DIRECTIVES,
        error=error,
        **extra,
    )
    return page, code


def may_prove(req: DataRequest) -> bool:
    """Whether the subject may still prove identifiers: confirmed, and not closed."""
    return req.verified_at is not None and not req.status_enum.is_final


@bp.get("/verify/<token>")
def verify(token: str):
    """The confirm page: one button; a GET alone never verifies."""
    _payload, req = pending_verification(token)
    return render_template("subject/confirm.html", req=req, token=token)


@bp.post("/verify/<token>")
def verify_confirm(token: str):
    """Verify the request, then send the status link by email."""
    payload, req = pending_verification(token)
    try:
        operations.verify(req, payload.nonce)
    except operations.LinkAlreadyUsed as exc:
        db.session.rollback()
        raise LinkRefused("used", Purpose.VERIFY) from exc
    db.session.commit()
    notify.send_confirmation(req)
    logger.info("request %s verified by its subject", req.ref)
    if processing.starts_itself(req):
        processing.start(req, actor="system")
    return redirect(url_for("subject.status", token=signing.sign(Purpose.STATUS, req.id)), 303)


@bp.get("/status/<token>")
def status(token: str):
    """Where the case stands, its deadline and its history."""
    return render_status(status_request(token), token)


@bp.get("/download/<token>")
def download(token: str):
    """The released answer's ZIP, streamed; every download is an audit event."""
    _payload, req = link_request(Purpose.DOWNLOAD, token)
    if req is None or not links.downloadable(req):
        raise LinkRefused("unavailable", Purpose.DOWNLOAD)
    try:
        return pack_response(req, actor="subject")
    except PackUnavailable as exc:
        db.session.rollback()
        raise LinkRefused("unavailable", Purpose.DOWNLOAD) from exc


@bp.post("/status/<token>/directives/revoke")
def revoke_directives(token: str):
    """The person revokes the post-mortem directives this request registered."""
    req = answer.locked(status_request(token).id)  # held until the commit
    if not request.form.get("confirm"):
        return render_status(
            req, token, code=400, error=_("Tick the box to confirm that you revoke them.")
        )
    try:
        directives.revoke(req)
    except directives.DirectiveError as exc:
        db.session.rollback()
        return render_status(req, token, code=409, error=str(exc))
    db.session.commit()
    flash(_("Your directives are revoked."))
    return redirect(url_for("subject.status", token=token, _anchor="directives"), 303)


def transfer_request(token: str) -> DataRequest:
    """The request a transfer link is about, if the link is the latest and the pack there."""
    payload, req = link_request(Purpose.TRANSFER, token)
    if not transmission.current(req, payload.nonce):
        raise LinkRefused("used", Purpose.TRANSFER)
    if not links.downloadable(req):
        raise LinkRefused("unavailable", Purpose.TRANSFER)
    return req


@bp.get("/transfer/<token>")
def transfer(token: str):
    """The receiving controller's page (Art. 20(2)): what it is, and a download button. A
    GET never downloads, so that mail scanners that open links take nothing."""
    req = transfer_request(token)
    return render_template("subject/transfer.html", req=req, token=token)


@bp.post("/transfer/<token>")
@csrf.exempt  # the signed link is the key, as for /download; there is no session to ride
def transfer_download(token: str):
    """The portability pack, streamed to the receiving controller (an audit event)."""
    req = transfer_request(token)
    try:
        return pack_response(req, actor="recipient", kind="transmission.downloaded")
    except PackUnavailable as exc:
        db.session.rollback()
        raise LinkRefused("unavailable", Purpose.TRANSFER) from exc


@bp.post("/status/<token>/documents")
@csrf.exempt  # checked below, once the body may be as large as a document
def upload_document(token: str):
    """A document for a death notice (a death certificate, proof of being an heir)."""
    request.max_content_length = current_app.config["DOCUMENT_MAX_BYTES"] + 64 * 1024
    req = answer.locked(status_request(token).id)  # held until the commit
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return render_status(
            req, token, code=400, error=_("This form has expired: send the document again.")
        )
    upload = request.files.get("document")
    try:
        if upload is None:
            raise documents.DocumentRefused(_("Choose a file to send."))
        documents.store(req, request.form.get("kind", ""), upload.stream, upload.filename or "")
    except documents.DocumentRefused as exc:
        db.session.rollback()
        return render_status(req, token, code=exc.status, error=str(exc))
    db.session.commit()
    flash(_("Thank you: we received the document. The privacy team will check it."))
    return redirect(url_for("subject.status", token=token, _anchor="documents"), 303)


@bp.post("/status/<token>/withdraw")
def withdraw(token: str):
    """Withdraw the request, once the subject ticked the confirmation box."""
    req = status_request(token)
    if req.status_enum.is_final:
        return render_status(
            req,
            token,
            code=409,
            error=_("This request is already closed, so it can no longer be withdrawn."),
        )
    if not request.form.get("confirm"):
        return render_status(
            req,
            token,
            code=400,
            error=_("Tick the box to confirm that you want to withdraw this request."),
        )
    try:
        operations.withdraw(req)
    except operations.InvalidTransition:
        db.session.rollback()
        return render_status(
            req,
            token,
            code=409,
            error=_("This request is already closed, so it can no longer be withdrawn."),
        )
    db.session.commit()
    notify.send_withdrawal(req)
    flash(_("Your request was withdrawn."))
    return redirect(url_for("subject.status", token=token), 303)


def named_identifier(req: DataRequest, kind: str) -> claims.Identifier:
    """The identifier a status page's form names by its kind and position (`position`)."""
    return claims.identifier_at(req, kind, request.form.get("position", ""))


@bp.post("/status/<token>/identifiers/<kind>/code")
@limit_codes
@limit_codes_per_phone
def send_code(token: str, kind: str):
    """Send a one-time code to one of the request's phone numbers."""
    req = status_request(token)
    if not may_prove(req):
        return render_status(req, token, code=409, error=_("This request is closed."))
    try:
        claim, code = codes.issue(req, kind, named_identifier(req, kind).value)
    except claims.ClaimError as exc:
        db.session.rollback()
        return render_status(req, token, code=422, error=str(exc))
    db.session.commit()
    sms.send_later(req.id, claim.normalised, "code", code=code, minutes=codes.CODE_MINUTES)
    flash(_("We sent a code to %(phone)s. Enter it below.", phone=mask(kind, claim.normalised)))
    return redirect(url_for("subject.status", token=token, _anchor="identifiers"), 303)


@bp.post("/status/<token>/identifiers/<kind>/prove")
@limit_code_checks
def prove(token: str, kind: str):
    """Check a code the subject typed; the right one proves the phone number."""
    req = status_request(token)
    if not may_prove(req):
        return render_status(req, token, code=409, error=_("This request is closed."))
    entered = request.form.get("code", "").strip()
    if not (entered.isascii() and entered.isdigit() and len(entered) == codes.CODE_DIGITS):
        error = _("Enter the %(digits)d digits of the code.", digits=codes.CODE_DIGITS)
        return render_status(req, token, code=400, error=error)
    try:
        claim = claims.claim_for(req, kind, named_identifier(req, kind).value)
        proven = codes.check(claim, entered)
    except claims.ClaimError as exc:
        db.session.rollback()
        return render_status(req, token, code=422, error=str(exc))
    db.session.commit()
    if not proven:
        return render_status(req, token, code=400, error=_("This code is not the right one."))
    flash(_("Thank you: this phone number is proven."))
    return redirect(url_for("subject.status", token=token, _anchor="identifiers"), 303)


class ResendSchema(Schema):
    """The resend form: an email address, checked as on the request form."""

    email = Email(required=True)


def refused_resend(seconds: int):
    """Too many asks for links: the form again, with the address typed and when to retry."""
    notice = _("You have asked for your links several times in a short time.")
    page = render_template(
        "subject/resend.html",
        errors={},
        email=request.form.get("email", ""),
        notice=f"{notice} {when_to_retry(seconds)}",
    )
    return page, 429


@bp.route("/requests/resend", methods=["GET", "POST"])
@resend_limits(refused_page=refused_resend)
def resend():
    """Send the address's links again (new confirmation links for unconfirmed requests, the
    status page's for open ones); the answer never says whether the address is known."""
    if request.method == "GET":
        return render_template("subject/resend.html", errors={}, email="")
    try:
        email = ResendSchema().load({"email": request.form.get("email", "")})["email"]
    except SchemaError as exc:
        errors = {key: [str(m) for m in messages] for key, messages in exc.messages.items()}
        page = render_template(
            "subject/resend.html", errors=errors, email=request.form.get("email", "")
        )
        return page, 400
    send_new_links(email)
    return render_template("subject/resend_sent.html")


def send_new_links(email: str) -> None:
    """Renew the unconfirmed requests of `email` and mail each its new confirmation link;
    mail each of its confirmed requests not closed yet the link to its status page."""
    pending = operations.renew_verification(email)
    db.session.commit()
    for req in pending:
        notify.send_verification(req)
    for req in operations.followed_requests(email):
        notify.send_status_link(req)
