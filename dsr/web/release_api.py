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
from dsr.web import schemas
from dsr.web.api import ApiError
from dsr.web.apidoc import NOT_FOUND, documented
from dsr.web.auth import token_required
from dsr.web.downloads import pack_response
from dsr.web.staff_api import HANDLER, bp, request_or_404


@bp.post("/requests/<ref>/release")
@documented(
    "releaseAnswer",
    "Release the answer (staff: handler and above)",
    "Queues the build of the answer pack (for access: the letter and the data, less what "
    "was left out). Once built, the person is mailed a download link in their language "
    "and the request becomes `completed`; a build that fails leaves it in `review` with "
    "`release_error`, and it can be released again. Pressing twice builds one pack.",
    responses={
        202: ("Release queued.", schemas.Release),
        404: NOT_FOUND,
        409: "Not in review (`not_in_review`), a withheld answer awaits a decision "
        "(`withheld_pending`), or the type has no pack (`no_answer`).",
    },
)
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
    return jsonify(schemas.RELEASE.dump(req)), 202


@bp.get("/requests/<ref>/export")
@documented(
    "exportAnswer",
    "The released answer pack (staff: handler and above)",
    "The ZIP the person downloads (the person's data: viewers may not). Each download is "
    "an audit event.",
    responses={
        200: {
            "description": "The pack.",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        },
        404: "No such request, or no pack yet (`no_pack`).",
    },
)
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
