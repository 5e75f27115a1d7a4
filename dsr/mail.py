"""Outgoing email: rendered in the requester's language by a job, never inside a web request.

A web request only calls `send_later`, after its transaction is committed; the
RQ job on the "mail" queue renders `templates/email/<template>.subject.txt`
and `<template>.txt`, delivers through the configured backend (`outbox`
files in development, `smtp` in production) and records the sending in the
audit log. A delivery that fails raises, so RQ retries it with back-off.
"""

import logging
import re
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from dsr import audit
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.queue import enqueue

logger = logging.getLogger(__name__)

#: the headers that name the case and template, for support and the outbox file name
REFERENCE_HEADER = "X-DSR-Reference"
TEMPLATE_HEADER = "X-DSR-Template"


def send_later(request_id: int, template: str, *, to: str | None = None, **context) -> None:
    """Queue an email about a request to its subject, or to `to` (a receiving controller);
    the caller has committed the request already."""
    enqueue(
        send_email_job,
        request_id,
        template,
        context,
        to,
        queue="mail",
        retries=3,
        description=f"send the {template!r} email of request {request_id}",
    )


def send_email_job(request_id: int, template: str, context: dict, to: str | None = None) -> None:
    """Render, deliver and log one email (runs in a worker, inside an app context)."""
    request = db.session.get(DataRequest, request_id)
    if request is None:
        logger.warning("mail %s: request %s no longer exists, nothing sent", template, request_id)
        return
    message = build_message(request, template, context, to)
    backend_for(current_app.config).deliver(message)
    audit.record(
        "mail.sent",
        actor="system",
        request_id=request.id,
        # an email to anyone but the subject says so (never with the address)
        data={"template": template, "message_id": message["Message-ID"]}
        | ({"to": "recipient"} if to else {}),
    )
    db.session.commit()
    logger.info("mail %s sent for %s", template, request.ref)


def render(request: DataRequest, template: str, context: dict) -> tuple[str, str]:
    """Subject and plain-text body, in the request's language."""
    instance = current_app.config["INSTANCE"]
    values = {
        "controller": instance["controller"],
        "authority": instance.get("authority", {}),
        **context,
        "request": request,
    }
    with force_locale(request.language):
        subject = render_template(f"email/{template}.subject.txt", **values)
        body = render_template(f"email/{template}.txt", **values)
    # one header line whatever the template holds: no header injection, no stray breaks
    return " ".join(subject.split()), tidy(body)


def tidy(body: str) -> str:
    """At most one blank line between paragraphs, whatever the optional blocks left."""
    return re.sub(r"\n{3,}", "\n\n", body.strip("\n")) + "\n"


def build_message(
    request: DataRequest, template: str, context: dict, to: str | None = None
) -> EmailMessage:
    """The complete message to the subject (or `to`), ready for any backend."""
    subject, body = render(request, template, context)
    message = compose(to or request.email, subject, body, request.language, template)
    message[REFERENCE_HEADER] = request.ref
    return message


def compose(to: str, subject: str, body: str, language: str, template: str) -> EmailMessage:
    """A plain-text message from the controller, about no request in particular."""
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage()
    message["From"] = Address(
        current_app.config["INSTANCE"]["controller"]["name"], addr_spec=sender
    )
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message[TEMPLATE_HEADER] = template
    message.set_content(body)
    message["Content-Language"] = language  # after set_content, which drops Content-*
    return message


class OutboxBackend:
    """Development delivery: each message becomes an `.eml` file, named to sort by time."""

    def __init__(self, directory: str):
        #: the folder the files go to, created on first delivery
        self.directory = Path(directory)

    def deliver(self, message: EmailMessage) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = "-".join(
            [
                utcnow().strftime("%Y%m%dT%H%M%S%fZ"),
                safe_part(message.get(REFERENCE_HEADER, "message")),
                safe_part(message.get(TEMPLATE_HEADER, "email")),
            ]
        )
        data = bytes(message)
        for attempt in range(1, 100):
            path = self.directory / (stem + (f"-{attempt}" if attempt > 1 else "") + ".eml")
            try:
                with open(path, "xb") as fh:  # exclusive: never overwrite another message
                    fh.write(data)
            except FileExistsError:
                continue
            logger.info("mail written to %s", path)
            return path
        raise FileExistsError(f"no free outbox file name for {stem}")


def safe_part(value: str) -> str:
    """A header value made safe for a file name."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(value))[:40] or "x"


class SMTPBackend:
    """Production delivery through an SMTP relay (STARTTLS, implicit TLS or plain)."""

    #: the accepted values of SMTP_SECURITY
    SECURITY = ("starttls", "tls", "none")

    def __init__(
        self,
        host: str,
        port: int,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30,
    ):
        if security not in self.SECURITY:
            raise ValueError(f"SMTP_SECURITY must be one of {', '.join(self.SECURITY)}")
        self.host, self.port, self.security = host, int(port), security
        self.username, self.password, self.timeout = username, password, timeout

    def connect(self) -> smtplib.SMTP:
        """An open session, encrypted as configured, not yet logged in."""
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except Exception:
                smtp.close()
                raise
        return smtp

    def deliver(self, message: EmailMessage) -> None:
        with self.connect() as smtp:
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
        logger.info("mail %s relayed to %s:%s", message["Message-ID"], self.host, self.port)


def backend_for(config) -> OutboxBackend | SMTPBackend:
    """The delivery backend MAIL_BACKEND names."""
    if config["MAIL_BACKEND"] == "outbox":
        return OutboxBackend(config["OUTBOX_DIR"])
    if config["MAIL_BACKEND"] == "smtp":
        return SMTPBackend(
            config["SMTP_HOST"],
            config["SMTP_PORT"],
            config["SMTP_SECURITY"],
            config["SMTP_USERNAME"],
            config["SMTP_PASSWORD"],
            config["SMTP_TIMEOUT"],
        )
    raise ValueError(f"unknown MAIL_BACKEND: {config['MAIL_BACKEND']!r}")
