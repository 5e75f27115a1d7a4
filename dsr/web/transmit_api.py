"""The staff API's portability transmission: `POST /api/v1/requests/<ref>/transmit` (202),
as the case page's "Send the data to this organisation" (`dsr.release.transmission`)."""

from flask import g, jsonify

from dsr.extensions import db
from dsr.release import answer, transmission
from dsr.web import schemas
from dsr.web.api import ApiError
from dsr.web.apidoc import NOT_FOUND, documented
from dsr.web.auth import token_required
from dsr.web.staff_api import HANDLER, bp, request_or_404


@bp.post("/requests/<ref>/transmit")
@documented(
    "transmitAnswer",
    "Send a portability pack to the organisation the person named (staff: handler and above)",
    "Art. 20(2): mails the receiving controller named in the request's `details` "
    "(`recipient_name`, `recipient_email`) a signed pull link to the released pack, "
    "working `TRANSFER_LINK_MAX_AGE`, and tells the person. Sending again voids the "
    "earlier link. Each sending and each download by the recipient is an audit event.",
    responses={
        202: ("Link sent.", schemas.Transmission),
        404: NOT_FOUND,
        409: "No receiving organisation named (`no_recipient`), or the answer is not "
        "released or no longer kept (`not_released`).",
    },
)
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
    return jsonify(schemas.TRANSMISSION.dump(req)), 202
