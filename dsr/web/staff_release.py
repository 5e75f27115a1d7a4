"""The case page's review and release: leave out a table or a record, undo it, release,
the handler's own copy of the released pack, and the documents the person sent.

Views on the staff blueprint (`dsr.web.staff.bp`). Each POST carries its CSRF
token, needs the handler role, and redirects back to the case.
"""

from flask import Response, abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from dsr import audit, documents, keys
from dsr.export.errors import PackUnavailable
from dsr.extensions import db
from dsr.models import Document
from dsr.release import answer, review, transmission
from dsr.web.auth import role_required
from dsr.web.downloads import pack_response
from dsr.web.staff import HANDLER, back_to, bp, request_or_404


def record_position(text: str) -> int | None:
    """The form's record number (1 = the first) as a 0-based position; "" for the whole table."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise review.ReviewError(_("The record number is a whole number from 1."))
    return int(text) - 1


@bp.post("/requests/<ref>/left-out")
@role_required(HANDLER)
def leave_out(ref: str):
    """Leave a table, or one record of it, out of the answer, with the reason."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    form = request.form
    reason = form.get("reason", "").strip()
    try:
        if not reason or len(reason) > review.REASON_LIMIT:
            raise review.ReviewError(
                _("Give the reason (at most %(limit)d characters).", limit=review.REASON_LIMIT)
            )
        review.leave_out(
            req,
            form.get("connector", ""),
            form.get("table", ""),
            reason,
            record_position(form.get("record", "")),
            actor=current_user.actor,
        )
    except review.ReviewError as exc:
        db.session.rollback()
        flash(_("Nothing was left out: %(reason)s", reason=str(exc)), "error")
        return back_to(req, "release")
    db.session.commit()
    flash(_("Left out of the answer."))
    return back_to(req, "release")


@bp.post("/requests/<ref>/left-out/<int:position>/undo")
@role_required(HANDLER)
def undo_left_out(ref: str, position: int):
    """Put back into the answer what one entry left out."""
    req = answer.locked(request_or_404(ref).id)  # held until the commit
    try:
        review.undo(req, position, actor=current_user.actor)
    except review.ReviewError as exc:
        db.session.rollback()
        flash(_("Nothing was put back: %(reason)s", reason=str(exc)), "error")
        return back_to(req, "release")
    db.session.commit()
    flash(_("Put back into the answer."))
    return back_to(req, "release")


@bp.post("/requests/<ref>/release")
@role_required(HANDLER)
def release(ref: str):
    """Ask for the answer's release: built and sent in the background."""
    req = request_or_404(ref)
    try:
        enqueue = answer.request_release(req, actor=current_user.actor)
    except answer.ReleaseRefused as exc:
        db.session.rollback()
        flash(_("The answer was not released: %(reason)s", reason=str(exc)), "error")
        return back_to(req, "release")
    db.session.commit()
    if enqueue:
        answer.enqueue_release(req.id)
    flash(_("The answer is being built; the person will receive an email with the link."))
    return back_to(req, "release")


@bp.get("/requests/<ref>/export")
@role_required(HANDLER)
def export(ref: str):
    """The released pack, as the person downloads it (an audit event)."""
    req = request_or_404(ref)
    try:
        return pack_response(req, actor=current_user.actor)
    except PackUnavailable:
        db.session.rollback()
        abort(404)


@bp.post("/requests/<ref>/transmit")
@role_required(HANDLER)
def transmit(ref: str):
    """Send the released portability pack to the organisation the person named."""
    req = answer.locked(request_or_404(ref).id)
    try:
        transmission.transmit(req, actor=current_user.actor)
    except transmission.TransmissionRefused as exc:
        db.session.rollback()
        flash(_("Nothing was sent: %(reason)s", reason=str(exc)), "error")
        return back_to(req, "release")
    db.session.commit()
    transmission.send_mails(req)
    flash(_("The link was sent to the organisation; the person is told."))
    return back_to(req, "release")


@bp.get("/requests/<ref>/documents/<int:document_id>")
@role_required(HANDLER)
def document(ref: str, document_id: int):
    """A document the person uploaded, decrypted as it is sent (an audit event)."""
    req = request_or_404(ref)
    found = db.session.get(Document, document_id)
    if found is None or found.request_id != req.id:
        abort(404)
    try:
        body = documents.read(found, req)
    except (FileNotFoundError, keys.KeyUnavailable):
        db.session.rollback()
        abort(404)
    audit.record(
        "document.viewed",
        actor=current_user.actor,
        request_id=req.id,
        data={"document": found.id},
    )
    db.session.commit()
    return Response(
        body,
        mimetype=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{req.ref}-{found.id}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
