"""The staff API's release: `POST /api/v1/requests/<ref>/release` (202) and
`GET /api/v1/requests/<ref>/export` (the released pack, ZIP), as on the case page.

Both need the handler role: the pack is the person's data, which a viewer
does not see (the case page shows viewers no withheld records either).
"""

from flask import g, jsonify
from flask_babel import gettext as _

from dsr.export.errors import PackUnavailable
from dsr.extensions import db
from dsr.release import answer
from dsr.web.api import ApiError
from dsr.web.auth import token_required
from dsr.web.downloads import pack_response
from dsr.web.staff_api import HANDLER, bp, iso_or_none, request_or_404


def release_json(req) -> dict:
    return {
        "ref": req.ref,
        "status": req.status,
        "release_requested_at": iso_or_none(req.release_requested_at),
        "released_at": iso_or_none(req.released_at),
        "release_error": req.release_error,
    }


@bp.post("/requests/<ref>/release")
@token_required(HANDLER)
def release(ref: str):
    """Ask for the answer's release (202): built, mailed, then `completed`, by a job."""
    req = request_or_404(ref)
    try:
        enqueue = answer.request_release(req, actor=g.api_user.actor)
    except answer.ReleaseRefused as exc:
        db.session.rollback()
        raise ApiError(409, exc.code, str(exc)) from exc
    db.session.commit()
    if enqueue:
        answer.enqueue_release(req.id)
    return jsonify(release_json(req)), 202


@bp.get("/requests/<ref>/export")
@token_required(HANDLER)
def export(ref: str):
    """The released pack, streamed (an audit event)."""
    req = request_or_404(ref)
    try:
        return pack_response(req, actor=g.api_user.actor)
    except PackUnavailable as exc:
        db.session.rollback()
        raise ApiError(
            404, "no_pack", _("This request has no answer pack: it was not released yet.")
        ) from exc
