"""`POST /api/v1/callbacks/<task_id>`: a system's answer to a task it accepted earlier.

The contract (DESIGN.md): `X-DSR-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256(secret, "<t>.<raw body>")>` with the connector's secret, at most
five minutes old. The body may be large: it is read in chunks into a spooled
temporary file while the signature is computed, and parsed streaming only once
the signature holds, so an unsigned body is never parsed and memory stays flat.
A refused callback changes nothing.
"""

import logging
import tempfile

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from connectors.answer import MalformedAnswer
from connectors.signature import HEADER, SignatureError, Verifier
from dsr import processing, systems
from dsr.extensions import csrf, db, limiter
from dsr.models import Task
from dsr.web.errors import json_error

logger = logging.getLogger(__name__)

bp = Blueprint("callbacks", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

CHUNK = 64 * 1024
#: bodies up to this size stay in memory while they are checked
SPOOL_IN_MEMORY = 1024 * 1024


class BodyTooLarge(Exception):
    pass


def spool_body(verifier: Verifier, limit: int):
    """The raw body in a temporary file, fed to the verifier chunk by chunk."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - returned
    size = 0
    while chunk := request.stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise BodyTooLarge
        verifier.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool


@bp.post("/callbacks/<task_id>")
@limiter.exempt
def receive(task_id: str):
    """Take a signed answer for a task; see the module docstring."""
    limit = current_app.config["CALLBACK_MAX_BYTES"]
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        return json_error(
            413, "payload_too_large", _("The body is larger than %(n)s bytes.", n=limit)
        )
    task = db.session.get(Task, task_id)
    connector = systems.get(task.connector) if task else None
    if task is None:
        return json_error(404, "unknown_task", _("There is no task with this id."))
    if connector is None or not connector.calls_back or not connector.secret:
        return json_error(
            409, "no_callbacks", _("This task's system does not answer through callbacks.")
        )
    # An open transaction holds SQLite's write lock: load what the answer needs (the
    # request, for the results folder), then end it before the body arrives.
    task.request  # noqa: B018 - loads the relationship
    db.session.commit()
    try:
        verifier = Verifier(connector.secret, request.headers.get(HEADER))
        with spool_body(verifier, limit) as body:
            verifier.verify()
            status = processing.receive_answer(task, body)
    except SignatureError as exc:
        logger.warning("callback for task %s refused: %s", task_id, exc)
        return json_error(401, "invalid_signature", str(exc))
    except BodyTooLarge:
        return json_error(
            413, "payload_too_large", _("The body is larger than %(n)s bytes.", n=limit)
        )
    except MalformedAnswer as exc:
        db.session.rollback()
        return json_error(422, "malformed_answer", str(exc))
    except processing.NotAllowed as exc:
        return json_error(409, "task_not_waiting", str(exc))
    if status == "already_finished":
        return jsonify({"status": "already_finished", "task": task_id})
    logger.info("callback for task %s: %s", task_id, status)
    return jsonify({"status": "accepted", "task": task_id, "task_status": status})
