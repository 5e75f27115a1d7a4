"""The emails in a request's life, each with its signed link.

Call these after the commit: the job that sends the email loads the request
by id and must find it.
"""

from dsr import mail, signing
from dsr.models import DataRequest
from dsr.signing import Purpose
from dsr.urls import external_url


def status_url(req: DataRequest) -> str:
    """A fresh absolute link to the request's status page."""
    return external_url("subject.status", token=signing.sign(Purpose.STATUS, req.id))


def verification_url(req: DataRequest) -> str:
    """The absolute link that confirms the address; it carries the request's current nonce."""
    token = signing.sign(Purpose.VERIFY, req.id, req.verify_nonce)
    return external_url("subject.verify", token=token)


def send_verification(req: DataRequest) -> None:
    mail.send_later(req.id, "verify", verify_url=verification_url(req))


def send_confirmation(req: DataRequest) -> None:
    mail.send_later(req.id, "confirmed", status_url=status_url(req))


def send_status_link(req: DataRequest) -> None:
    """The status page's link again, for a person who lost it ("send my links again")."""
    mail.send_later(req.id, "status_link", status_url=status_url(req))


def send_withdrawal(req: DataRequest) -> None:
    mail.send_later(req.id, "withdrawn", status_url=status_url(req))
