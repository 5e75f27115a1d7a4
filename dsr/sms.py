"""Outgoing text messages (one-time codes), sent by a job like the emails (`dsr.mail`).

A web request only calls `send_later`, after its transaction is committed;
the RQ job on the "mail" queue renders `templates/sms/<template>.txt` in the
request's language, delivers it through the configured backend and records
the sending in the audit log with the number masked. Backends:

- `outbox` (development): each message becomes a `.sms.json` file
  (`{"to", "text", "date", "reference", "template"}`) in `OUTBOX_DIR`, beside
  the emails, listed on `/dev/outbox`;
- `http` (production): `POST SMS_GATEWAY_URL` with the JSON body
  `{"to": "+33612345678", "text": "..."}` and the header
  `Authorization: Bearer <SMS_GATEWAY_TOKEN>`; any 2xx answer means sent.

A delivery that fails raises, so RQ retries it with back-off.
"""

import json
import logging
import urllib.request
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from dsr import audit
from dsr.extensions import db
from dsr.mail import safe_part
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.queue import enqueue

logger = logging.getLogger(__name__)

#: the file names the outbox backend writes end so
OUTBOX_SUFFIX = ".sms.json"


def send_later(request_id: int, to: str, template: str, **context) -> None:
    """Queue a text message about a request to `to` (E.164); the caller has committed."""
    enqueue(
        send_sms_job,
        request_id,
        to,
        template,
        context,
        queue="mail",
        retries=3,
        description=f"send the {template!r} text message of request {request_id}",
    )


def send_sms_job(request_id: int, to: str, template: str, context: dict) -> None:
    """Render, deliver and log one text message (runs in a worker, inside an app context)."""
    request = db.session.get(DataRequest, request_id)
    if request is None:
        logger.warning("sms %s: request %s no longer exists, nothing sent", template, request_id)
        return
    text = render(request, template, context)
    backend_for(current_app.config).deliver(to, text, reference=request.ref, template=template)
    audit.record(
        "sms.sent",
        actor="system",
        request_id=request.id,
        data={"template": template},  # never the number: the chain cannot forget it
    )
    db.session.commit()


def render(request: DataRequest, template: str, context: dict) -> str:
    """The message in the request's language, on one line."""
    values = {"controller": current_app.config["INSTANCE"]["controller"], **context}
    with force_locale(request.language):
        text = render_template(f"sms/{template}.txt", request=request, **values)
    return " ".join(text.split())


class OutboxSmsBackend:
    """Development delivery: each message becomes a JSON file, named to sort by time."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def deliver(self, to: str, text: str, *, reference: str, template: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = utcnow()
        stem = f"{now:%Y%m%dT%H%M%S%fZ}-{safe_part(reference)}-{safe_part(template)}"
        body = {
            "to": to,
            "text": text,
            "date": now.isoformat(),
            "reference": reference,
            "template": template,
        }
        for attempt in range(1, 100):
            path = self.directory / (stem + (f"-{attempt}" if attempt > 1 else "") + OUTBOX_SUFFIX)
            try:
                with open(path, "x", encoding="utf-8") as fh:  # never overwrite another message
                    json.dump(body, fh, ensure_ascii=False)
            except FileExistsError:
                continue
            logger.info("sms written to %s", path)
            return path
        raise FileExistsError(f"no free outbox file name for {stem}")


class HttpSmsBackend:
    """Production delivery: a JSON POST to an SMS gateway, with a bearer token."""

    def __init__(self, url: str, token: str | None, timeout: float = 10):
        self.url, self.token, self.timeout = url, token, timeout

    def deliver(self, to: str, text: str, *, reference: str, template: str) -> None:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"to": to, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            logger.info("sms %s of %s: gateway answered %s", template, reference, response.status)


def backend_for(config) -> OutboxSmsBackend | HttpSmsBackend:
    """The delivery backend SMS_BACKEND names."""
    if config["SMS_BACKEND"] == "outbox":
        return OutboxSmsBackend(config["OUTBOX_DIR"])
    if config["SMS_BACKEND"] == "http":
        return HttpSmsBackend(
            config["SMS_GATEWAY_URL"], config["SMS_GATEWAY_TOKEN"], config["SMS_GATEWAY_TIMEOUT"]
        )
    raise ValueError(f"unknown SMS_BACKEND: {config['SMS_BACKEND']!r}")
