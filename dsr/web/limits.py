"""Rate limits on what a stranger can make us do: submit requests, resend links, guess signatures.

Two limits guard submissions and resends: one per client IP, one per email
address named in the body (so one address cannot be flooded from many IPs).
Only what was accepted counts: a submission refused for invalid input leaves
the person's allowance as it was. On the callback endpoint only refused
signatures (401) count, per client IP. One-time codes by text message: sent
per request and per phone number (so requests naming someone's number cannot
flood it), checked per request. Counters live in Redis.

A refusal is a 429 with `Retry-After`, and its page says when to try again; a
form refused this way comes back with what was typed (`refused_page`). The
`X-RateLimit-*` headers on every answer are off by default
(`RATELIMIT_HEADERS_ENABLED`): Flask-Limiter reads them back from Redis with
two more round trips per request, which cost about a sixth of the time an API
submission takes.
"""

import time
from collections.abc import Callable
from datetime import timedelta

from flask import Response, after_this_request, current_app, g, make_response, request
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_limiter import RequestLimit

from dsr import signing
from dsr.extensions import db, limiter
from dsr.identity import claims
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.templating import localtime

#: what a form shows instead of the error page when refused: given the seconds to wait
RefusedPage = Callable[[int], tuple[str, int] | Response]


def email_key() -> str:
    """The email address the body names, for per-address limits."""
    try:
        body = request.get_json(silent=True) if request.is_json else request.form
    except RecursionError:  # nested deeper than the parser goes; the view answers 400
        body = None
    email = body.get("email") if hasattr(body, "get") else None
    return "email:" + (email.strip().lower() if isinstance(email, str) else "")


def add_retry_after(breached: RequestLimit) -> None:
    """Tell the refused client when the limit's window ends (read from Redis only now);
    `g.retry_after` keeps the seconds for the page that says so."""
    seconds = max(1, int(breached.reset_at - time.time()))
    g.retry_after = max(seconds, g.get("retry_after", 0))

    @after_this_request
    def retry_after(response):
        response.headers["Retry-After"] = str(g.retry_after)
        return response


def when_to_retry(seconds: int) -> str:
    """When a refused person may try again, in words: the time and how long to wait."""
    return _(
        "You can try again after %(time)s (in %(wait)s).",
        time=localtime(utcnow() + timedelta(seconds=seconds + 59)),
        wait=format_timedelta(timedelta(seconds=seconds), granularity="minute", threshold=1.5),
    )


def accepted(response: Response) -> bool:
    """A request taken: created (the API's 201), or the form's way on to "check your
    mailbox" (303) or the resend form's answer (200). Refusals (400, 422) do not count."""
    return response.status_code in (200, 201, 303)


def _limits(name: str, refused_page: RefusedPage | None = None) -> Callable:
    def breached(limit: RequestLimit) -> Response | None:
        add_retry_after(limit)
        if refused_page is None:
            return None
        return make_response(refused_page(g.retry_after))

    by_ip = limiter.limit(
        lambda: current_app.config[f"RATELIMIT_{name}_IP"],
        methods=["POST"],
        scope=f"{name.lower()}-ip",
        deduct_when=accepted,
        on_breach=breached,
    )
    by_email = limiter.limit(
        lambda: current_app.config[f"RATELIMIT_{name}_EMAIL"],
        key_func=email_key,
        methods=["POST"],
        scope=f"{name.lower()}-email",
        deduct_when=accepted,
        on_breach=breached,
    )

    def decorate(view: Callable) -> Callable:
        return by_ip(by_email(view))

    return decorate


def submission_limits(refused_page: RefusedPage | None = None) -> Callable:
    """The limits on views that create requests; a form gives the page it shows when refused."""
    return _limits("SUBMIT", refused_page)


def resend_limits(refused_page: RefusedPage | None = None) -> Callable:
    """The limits on the view that sends a person's links again."""
    return _limits("RESEND", refused_page)


#: on the API's view that creates requests
limit_submissions = submission_limits()


def status_link_key() -> str:
    """The request a status link names (any of its links counts alike), for per-request limits."""
    try:
        return (
            f"request:{signing.load(signing.Purpose.STATUS, request.view_args['token']).request_id}"
        )
    except (signing.TokenError, KeyError):
        return "request:invalid"


def phone_key() -> str:
    """The normalised phone number a code request names (its kind and position on the
    status page), for per-number limits; anything unresolved shares one key."""
    try:
        token = signing.load(signing.Purpose.STATUS, request.view_args["token"])
    except (signing.TokenError, KeyError):
        return "phone:none"
    req = db.session.get(DataRequest, token.request_id)
    if req is None:
        return "phone:none"
    try:
        ident = claims.identifier_at(req, "phone", request.form.get("position", ""))
    except claims.NotClaimed:
        return "phone:none"
    return "phone:" + ident.normalised


def code_sent(response) -> bool:
    return response.status_code == 303


#: on the view that sends a one-time code by text message, per request
limit_codes = limiter.limit(
    lambda: current_app.config["RATELIMIT_SMS_CODE"],
    key_func=status_link_key,
    methods=["POST"],
    scope="sms-code",
    on_breach=add_retry_after,
)
#: on the same view, per phone number: only codes actually sent count
limit_codes_per_phone = limiter.limit(
    lambda: current_app.config["RATELIMIT_SMS_PHONE"],
    key_func=phone_key,
    methods=["POST"],
    scope="sms-phone",
    deduct_when=code_sent,
    on_breach=add_retry_after,
)
#: on the view that checks a code the subject typed, per request
limit_code_checks = limiter.limit(
    lambda: current_app.config["RATELIMIT_SMS_CODE_CHECK"],
    key_func=status_link_key,
    methods=["POST"],
    scope="sms-code-check",
    on_breach=add_retry_after,
)


#: on the callback endpoint: refused signatures, per client IP (a system's good answers never count)
limit_callback_failures = limiter.limit(
    lambda: current_app.config["RATELIMIT_CALLBACK_FAILURES"],
    methods=["POST"],
    scope="callback-failures",
    deduct_when=lambda response: response.status_code == 401,
    on_breach=add_retry_after,
)
