"""Rate limits on what a stranger can make us do: submit requests, resend links.

Two limits guard each: one per client IP, one per email address named in the
body (so one address cannot be flooded from many IPs). Counters live in Redis.
"""

from collections.abc import Callable

from flask import current_app, request

from dsr.extensions import limiter


def email_key() -> str:
    """The email address the body names, for per-address limits."""
    try:
        body = request.get_json(silent=True) if request.is_json else request.form
    except RecursionError:  # nested deeper than the parser goes; the view answers 400
        body = None
    email = body.get("email") if hasattr(body, "get") else None
    return "email:" + (email.strip().lower() if isinstance(email, str) else "")


def _limits(name: str) -> Callable:
    by_ip = limiter.limit(
        lambda: current_app.config[f"RATELIMIT_{name}_IP"],
        methods=["POST"],
        scope=f"{name.lower()}-ip",
    )
    by_email = limiter.limit(
        lambda: current_app.config[f"RATELIMIT_{name}_EMAIL"],
        key_func=email_key,
        methods=["POST"],
        scope=f"{name.lower()}-email",
    )

    def decorate(view: Callable) -> Callable:
        return by_ip(by_email(view))

    return decorate


#: on the views that create requests (web form and API)
limit_submissions = _limits("SUBMIT")
#: on the views that send a new verification link
limit_resends = _limits("RESEND")
