"""`POST /api/v1/callbacks/<task_id>`: a system's answer to a task it accepted earlier.

The contract (DESIGN.md): `X-DSR-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256(secret, "<t>.<raw body>")>` with the connector's secret, at most
five minutes old. In this order, so that a stranger learns nothing and costs
little:

1. the header must be there, well formed and fresh (401), before the task is
   looked up or a byte of the body read; refused signatures count against the
   client's address (`RATELIMIT_CALLBACK_FAILURES`, then 429);
2. the task must exist: an unknown one gets 404 only when the body is signed
   with the secret of one of the systems (401 otherwise, so that a
   stranger cannot probe for task ids); its system must have a secret (else 401);
3. the body is read in chunks into a spooled temporary file while the
   signature is computed (401 if it does not match, 413 beyond
   `CALLBACK_MAX_BYTES`); a system that does not call back gets 409;
4. a signature is good for one task: the same one again on its task is
   acknowledged (`already_finished`), on another task refused (401);
5. the body is parsed streaming (422 if malformed, or if its `task_id`
   names another task); a task not waiting, or cancelled, gets 409.

A refused callback changes nothing.
"""

import logging
import tempfile

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from connectors.answer import MalformedAnswer, TaskMismatch
from connectors.signature import HEADER, SignatureError, Signed, Verifier
from dsr import processing, systems, used_signatures
from dsr.extensions import csrf, db
from dsr.models import Task
from dsr.used_signatures import Use
from dsr.web import schemas
from dsr.web.apidoc import documented
from dsr.web.errors import json_error
from dsr.web.limits import limit_callback_failures

logger = logging.getLogger(__name__)

bp = Blueprint("callbacks", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

CHUNK = 64 * 1024
#: bodies up to this size stay in memory while they are checked
SPOOL_IN_MEMORY = 1024 * 1024


class BodyTooLarge(Exception):
    pass


def body_chunks(limit: int):
    """The raw body, chunk by chunk; BodyTooLarge past `limit` bytes."""
    size = 0
    while chunk := request.stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        yield chunk


def spool_body(verifier: Verifier, limit: int):
    """The raw body in a temporary file, fed to the verifier chunk by chunk."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - returned
    try:
        for chunk in body_chunks(limit):
            verifier.update(chunk)
            spool.write(chunk)
    except BodyTooLarge:
        spool.close()
        raise
    spool.seek(0)
    return spool


def refused(task_id: str, exc: SignatureError):
    logger.warning("callback for task %s refused: %s", task_id, exc)
    return json_error(401, "invalid_signature", str(exc))


def too_large(limit: int):
    return json_error(413, "payload_too_large", _("The body is larger than %(n)s bytes.", n=limit))


@bp.post("/callbacks/<task_id>")
@documented(
    "receiveCallback",
    "A connected system's answer to a task (signed)",
    "Sent by a system of kind `webhook` to the notice's `callback_url`, signed with the "
    "connector's secret. A signature older than five minutes is refused before the task is "
    "looked up or the body read; a signature is good for one task (the same one again on "
    "its task is acknowledged, on another refused); refused signatures are rate-limited per "
    "client address. A repeated callback for a finished task is acknowledged without effect.",
    tags=["connectors"],
    parameters=[
        {
            "name": HEADER,
            "in": "header",
            "required": True,
            "description": '`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`',
            "schema": {"type": "string"},
        }
    ],
    body=schemas.Answer,
    body_errors={},
    responses={
        200: ("Taken, or taken already.", schemas.CallbackAck),
        401: "The signature is missing, wrong, too old, or already used for another task.",
        404: "No task with this id (`unknown_task`).",
        409: "The task is not waiting for an answer, was cancelled with its request, "
        "or its system does not call back.",
        413: "The body is larger than the server accepts.",
        422: "The body is not a valid answer (`malformed_answer`), or its `task_id` names "
        "another task (`task_mismatch`).",
        429: "Too many refused signatures from this address.",
    },
)
@limit_callback_failures
def receive(task_id: str):
    """Take a signed answer for a task; see the module docstring."""
    try:
        signed = Signed.from_header(request.headers.get(HEADER))
    except SignatureError as exc:
        return refused(task_id, exc)
    limit = current_app.config["CALLBACK_MAX_BYTES"]
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        return too_large(limit)
    task = db.session.get(Task, task_id)
    if task is None:
        return unknown_task(task_id, signed, limit)
    connector = systems.get(task.connector)
    if connector is None or not connector.secret:
        return refused(task_id, SignatureError(_("No signature is valid for this task's system.")))
    # An open transaction holds SQLite's write lock: load what the answer needs (the
    # request, for the results folder), then end it before the body arrives.
    task.request  # noqa: B018 - loads the relationship
    db.session.commit()
    try:
        verifier = Verifier(connector.secret, signed)
        with spool_body(verifier, limit) as body:
            digest = verifier.verify()
            if not connector.calls_back:
                return json_error(
                    409, "no_callbacks", _("This task's system does not answer through callbacks.")
                )
            return take_answer(task, digest, body)
    except SignatureError as exc:
        return refused(task_id, exc)
    except BodyTooLarge:
        return too_large(limit)


class AnyOf:
    """Verifiers fed the same chunks: the body is signed if one of them holds."""

    def __init__(self, verifiers: list[Verifier]):
        self.verifiers = verifiers

    def update(self, chunk: bytes) -> None:
        for verifier in self.verifiers:
            verifier.update(chunk)

    def holds(self) -> bool:
        for verifier in self.verifiers:
            try:
                verifier.verify()
            except SignatureError:
                continue
            return True
        return False


def unknown_task(task_id: str, signed: Signed, limit: int):
    """404 to a system that signs with its secret (a typo, a purged task); 401 to anyone else."""
    db.session.commit()
    secrets = {c.secret for c in systems.all_connectors().values() if c.secret}
    verifiers = AnyOf([Verifier(secret, signed) for secret in secrets])
    try:
        for chunk in body_chunks(limit):
            verifiers.update(chunk)
    except BodyTooLarge:
        return too_large(limit)
    if not verifiers.holds():
        return refused(task_id, SignatureError(_("No signature is valid for this task.")))
    return json_error(404, "unknown_task", _("There is no task with this id."))


def take_answer(task: Task, digest: str, body):
    """A verified answer: once per signature, for one task only (`dsr.used_signatures`)."""
    use = used_signatures.claim(digest, task.id)
    if use is Use.OTHER_TASK:
        return refused(
            task.id, SignatureError(_("This signature was already used for another task."))
        )
    try:
        status = repeated(task) if use is Use.SAME_TASK else processing.receive_answer(task, body)
    except MalformedAnswer as exc:
        db.session.rollback()
        used_signatures.release(digest, task.id)  # nothing was kept: a corrected retry may come
        code = "task_mismatch" if isinstance(exc, TaskMismatch) else "malformed_answer"
        return json_error(422, code, str(exc))
    except processing.NotAllowed as exc:
        db.session.rollback()
        return json_error(409, "task_not_waiting", str(exc))
    except BaseException:
        db.session.rollback()
        used_signatures.release(digest, task.id)  # our failure: the system's retry must work
        raise
    if status == "already_finished":
        return jsonify(schemas.CALLBACK_ACK.dump({"status": "already_finished", "task": task.id}))
    logger.info("callback for task %s: %s", task.id, status)
    ack = {"status": "accepted", "task": task.id, "task_status": status}
    return jsonify(schemas.CALLBACK_ACK.dump(ack))


def repeated(task: Task) -> str:
    """The same signed answer again on its task: a system retrying; nothing is read."""
    db.session.refresh(task)
    return processing.check_waiting(task) or "already_finished"
