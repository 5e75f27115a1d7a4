"""The JSON API under /api/v1: public intake, health, and the OpenAPI document.

Every answer is JSON, errors included (`{"error": {"code", "message", "fields"}}`,
see `dsr.web.errors`). The blueprint is exempt from CSRF: nothing here relies on
a browser's session cookie (intake is anonymous, the staff API will use bearer
tokens), so there is no ambient credential for another site to ride on.
"""

import json
import logging

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError
from redis import Redis
from redis.exceptions import RedisError

from dsr import notify, operations
from dsr.db import ping as database_ping
from dsr.extensions import csrf, db, limiter
from dsr.i18n import browser_language
from dsr.intake import IntakeError, flatten, validate_payload
from dsr.web import openapi, schemas
from dsr.web.apidoc import documented, response
from dsr.web.errors import MESSAGES, json_error
from dsr.web.limits import limit_submissions
from dsr.web.schemas import iso_utc  # noqa: F401 - where the API modules find it

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

#: a down Redis must make the health check answer at once, not hang
HEALTH_REDIS_TIMEOUT = 1


class ApiError(Exception):
    """An answer in the API's error shape, raised from anywhere inside a view."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(code)
        self.status, self.code, self.message, self.fields = status, code, message, fields


@bp.errorhandler(ApiError)
def handle_api_error(exc: ApiError):
    return json_error(exc.status, exc.code, exc.message, exc.fields)


def read_json():
    """The body as parsed JSON, or ApiError: 415 if it is not declared JSON, 400 if unparsable.

    Parsed here rather than with `request.get_json()` so that bytes that are not
    UTF-8, nesting too deep for the parser and lone surrogates (which would break
    every later page or email showing the text) are all a plain 400.
    """
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", str(MESSAGES[415]))
    try:
        payload = json.loads(request.get_data().decode("utf-8-sig"))
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError) as exc:  # UnicodeError is a ValueError
        logger.info("invalid JSON body on %s: %s", request.path, exc)
        raise ApiError(
            400, "invalid_json", _("The body is not valid JSON encoded in UTF-8.")
        ) from exc
    return payload


def load_body(schema: Schema) -> dict:
    """The JSON body loaded by a marshmallow schema, or a 422 whose `fields` say what to fix."""
    body = read_json()
    if not isinstance(body, dict):
        raise ApiError(422, "validation_error", _("Send a JSON object."))
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ApiError(
            422,
            "validation_error",
            _("The request has errors; each field says what to fix."),
            flatten(exc.messages),
        ) from exc


@bp.post("/requests")
@documented(
    "createRequest",
    "Submit a data-subject request",
    "Stores the request as `unverified` and emails the subject a link to confirm it; the "
    "legal clock runs from receipt. No authentication; rate-limited per client IP and per "
    "email address.",
    body="NewRequest",
    responses={
        201: ("Request stored; confirmation email queued.", schemas.Created),
        422: "The request is invalid (`validation_error`); `fields` says what to fix, "
        "by dotted path.",
        429: {
            **response("Too many submissions; retry later."),
            "headers": {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            },
        },
    },
)
@limit_submissions
def create_request():
    """Take a request from an integrator; it waits unverified until the subject confirms."""
    payload = read_json()
    try:
        data = validate_payload(payload, default_language=browser_language())
    except IntakeError as exc:
        raise ApiError(
            422,
            "validation_error",
            _("The request has errors; each field says what to fix."),
            exc.fields,
        ) from exc
    data_request = operations.create_request(data, channel="api")
    db.session.commit()
    notify.send_verification(data_request)
    logger.info("request %s created through the API", data_request.ref)
    return jsonify(schemas.CREATED.dump(data_request)), 201


def redis_ping() -> bool:
    """Whether Redis answers; a fresh client with short timeouts, closed at once."""
    client = Redis.from_url(
        current_app.config["REDIS_URL"],
        socket_connect_timeout=HEALTH_REDIS_TIMEOUT,
        socket_timeout=HEALTH_REDIS_TIMEOUT,
    )
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


@bp.get("/health")
@documented(
    "health",
    "State of the database and Redis",
    responses={
        200: ("Both answer.", schemas.Health),
        503: ("At least one is down.", schemas.Health),
    },
)
@limiter.exempt
def health():
    """Database and Redis state for load balancers and monitoring: 200 if both answer, else 503."""
    states = {"database": database_ping(), "redis": redis_ping()}
    healthy = all(states.values())
    body = {"status": "ok" if healthy else "degraded"}
    body.update({name: "ok" if up else "down" for name, up in states.items()})
    return jsonify(schemas.HEALTH.dump(body)), 200 if healthy else 503


@bp.get("/openapi.json")
@documented(
    "openapi",
    "This document",
    responses={200: ("The OpenAPI 3.1 description of this API.", {"type": "object"})},
)
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi.document(current_app))
