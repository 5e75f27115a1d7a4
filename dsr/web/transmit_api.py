"""The staff API's portability transmission: `POST /api/v1/requests/<ref>/transmit` (202),
as the case page's "Send the data to this organisation" (`dsr.release.transmission`)."""

from flask import g, jsonify

from dsr.extensions import db
from dsr.release import answer, transmission
from dsr.web.api import ApiError
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, bp, iso_or_none, request_or_404


@bp.post("/requests/<ref>/transmit")
@token_required(HANDLER)
def transmit(ref: str):
    """Mail the receiving controller a pull link to the released pack; the person is told."""
    req = answer.locked(request_or_404(ref).id)
    try:
        transmission.transmit(req, actor=g.api_user.actor)
    except transmission.TransmissionRefused as exc:
        db.session.rollback()
        raise ApiError(409, exc.code, str(exc)) from exc
    db.session.commit()
    transmission.send_mails(req)
    return jsonify({"ref": req.ref, "transmitted_at": iso_or_none(req.transmitted_at)}), 202
