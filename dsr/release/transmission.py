"""Portability's direct transmission (Art. 20(2)): the released pack, sent to the receiving
controller the person named on the form, as a signed pull link, and the person told.

A handler decides it (the page's button or `POST /api/v1/requests/<ref>/transmit`),
once the answer is released: the engine emails the receiving controller a link
signed for TRANSFER that works `TRANSFER_LINK_MAX_AGE` (14 days by default) and
carries a nonce kept on the request, so that sending again voids the older link.
Every sending and every download by the recipient is an audit event; the event
names the recipient's mail domain only (the audit chain outlives the request's
personal data).
"""

import secrets

from flask import current_app
from flask_babel import gettext as _

import workflows
from dsr import audit, mail, signing
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.release import links
from dsr.signing import Purpose
from dsr.urls import external_url


class TransmissionRefused(Exception):
    """A transmission that cannot be made now; `code` is the API's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def recipient(request: DataRequest) -> tuple[str, str] | None:
    """The receiving controller (name, email) the person named, if the type has one."""
    find = getattr(workflows.get(request.type), "recipient", None)
    return find(request.details or {}) if find else None


def transmittable(request: DataRequest) -> bool:
    """Whether a handler may send the pack now: a recipient is named and the pack is there."""
    return recipient(request) is not None and links.downloadable(request)


def transmit(request: DataRequest, *, actor: str) -> None:
    """Send the pull link to the recipient and tell the person; the caller has the row
    locked and commits, then calls `send_mails`. TransmissionRefused if it cannot be sent."""
    named = recipient(request)
    if named is None:
        raise TransmissionRefused(
            "no_recipient", _("The person named no organisation to send their data to.")
        )
    if not links.downloadable(request):
        raise TransmissionRefused(
            "not_released",
            _("The answer must be released, and still kept, before it can be sent."),
        )
    request.transmission_nonce = secrets.token_urlsafe(16)
    request.transmitted_at = utcnow()
    audit.record(
        "transmission.sent",
        actor=actor,
        request_id=request.id,
        data={"recipient_domain": named[1].rpartition("@")[2].lower()},
    )


def send_mails(request: DataRequest) -> None:
    """After the commit: the pull link to the recipient, the news to the person."""
    name, email = recipient(request)
    days = current_app.config["TRANSFER_LINK_MAX_AGE"] // (24 * 3600)
    mail.send_later(
        request.id,
        "transfer_link",
        to=email,
        recipient_name=name,
        transfer_url=external_url("subject.transfer", token=transfer_token(request)),
        link_days=days,
    )
    mail.send_later(request.id, "transfer_sent", recipient_name=name, link_days=days)


def transfer_token(request: DataRequest) -> str:
    return signing.sign(Purpose.TRANSFER, request.id, request.transmission_nonce)


def current(request: DataRequest | None, nonce: str | None) -> bool:
    """Whether a transfer link's nonce is the latest sent for this request."""
    return (
        request is not None
        and nonce is not None
        and request.transmission_nonce is not None
        and secrets.compare_digest(request.transmission_nonce, nonce)
    )
