"""Errors as the client can act on them: one JSON shape for the API, a page for people.

JSON errors always read `{"error": {"code", "message", "fields"}}`; nothing
answers with a stack trace.
"""

import logging

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from dsr.web import schemas
from dsr.web.limits import when_to_retry

logger = logging.getLogger(__name__)

#: what people read for the common HTTP errors (the API's message too)
MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("You need to sign in, or your credentials are wrong."),
    403: _l("You are not allowed to do this."),
    404: _l("There is nothing at this address."),
    405: _l("This address does not accept this method."),
    413: _l("What you sent is too large."),
    415: _l("Send JSON with the header Content-Type: application/json."),
    429: _l("Too many attempts. Please wait a while and try again."),
    500: _l("Something went wrong on our side. Nothing you sent was lost; please try again later."),
    503: _l("The service is temporarily unavailable. Please try again in a few minutes."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    """The API's error response."""
    body = {"error": {"code": code, "message": str(message), "field_messages": fields}}
    return jsonify(schemas.ERROR.dump(body)), status


def error_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def handle_http_error(exc: HTTPException):
    if exc.response is not None:  # a page made for this refusal (a form, kept as typed)
        return exc.response
    status = exc.code or 500
    message = MESSAGES.get(status, exc.description)
    if status == 429 and g.get("retry_after"):
        message = _("Too many attempts in a short time.") + " " + when_to_retry(g.retry_after)
    if isinstance(exc, CSRFError):
        message = _(
            "This form has expired or did not come from this site. "
            "Reload the page and send it again."
        )
    if wants_json():
        response, status = json_error(status, error_code(exc), message)
    else:
        response = make_response(render_template("error.html", status=status, message=message))
    return with_exception_headers(response, exc), status


def with_exception_headers(response, exc: HTTPException):
    """The headers the error itself calls for, such as a 405's `Allow` (RFC 9110 15.5.6)."""
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_redis_down(exc: RedisError):
    """Redis holds the rate limits and the job queues: without it we answer 503, not 500."""
    logger.error("redis unavailable on %s %s: %s", request.method, request.path, exc)
    return handle_http_error(ServiceUnavailable())


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(RedisError, handle_redis_down)
    app.register_error_handler(Exception, handle_unexpected)
