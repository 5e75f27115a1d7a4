"""A signed JSON POST to a system, the one thing the http and webhook kinds share.

Every failure becomes a `ConnectorError` whose message a handler can act on:
"crm did not answer within 30 s", "crm refused the connection at ...",
"crm answered HTTP 500: <start of the body>". Redirects are not followed: a
signed notice goes where the configuration says, or fails visibly. A user and
password in the URL are sent as HTTP Basic authentication, and never appear in
a message (`connectors.redact`).
"""

import base64
import json
import urllib.error
import urllib.request
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit, urlunsplit

from connectors import signature
from connectors.base import ConnectorConfigError, ConnectorError
from connectors.redact import redact_url

#: how much of an error body goes into the message
EXCERPT = 200


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # urllib then raises HTTPError with the 3xx status


_opener = urllib.request.build_opener(_NoRedirect)


def check_url(url) -> str:
    """`url` if it is an absolute http(s) URL, else ConnectorConfigError."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        valid = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
        if valid:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        valid = False
    if not valid:
        shown = redact_url(url) if isinstance(url, str) else repr(url)
        raise ConnectorConfigError(f"url must be an http:// or https:// URL, not {shown}")
    return url


def split_credentials(url: str) -> tuple[str, dict]:
    """`url` without its user info, and the Basic Authorization header it stood for."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, {}
    netloc = parts.netloc.rpartition("@")[2]
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    header = "Basic " + base64.b64encode(pair.encode()).decode()
    return urlunsplit(parts._replace(netloc=netloc)), {"Authorization": header}


@contextmanager
def post_json(name: str, url: str, payload: dict, secret: str | None, timeout: float):
    """POST `payload` as JSON, signed when there is a secret; yields the 2xx response.

    `name` is the connector's, for the messages. Errors while the caller reads
    the response (a timeout mid-body) become ConnectorError too.
    """
    body = json.dumps(payload, ensure_ascii=False).encode()
    url, headers = split_credentials(url)
    headers.update({"Content-Type": "application/json", "User-Agent": "dsr"})
    if secret:
        headers[signature.HEADER] = signature.sign(secret, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            yield response
    except urllib.error.HTTPError as exc:
        message = f"{name} answered HTTP {exc.code}{_excerpt(exc)}"
        exc.close()
        raise ConnectorError(message) from None
    except urllib.error.URLError as exc:
        raise _unreachable(name, url, timeout, exc.reason) from None
    except OSError as exc:  # TimeoutError, ConnectionResetError while reading
        raise _unreachable(name, url, timeout, exc) from None


def _unreachable(name: str, url: str, timeout: float, reason) -> ConnectorError:
    if isinstance(reason, TimeoutError):
        return ConnectorError(f"{name} did not answer within {timeout:g} s")
    if isinstance(reason, ConnectionRefusedError):
        return ConnectorError(f"{name} refused the connection at {redact_url(url)}")
    return ConnectorError(f"{name} could not be reached at {redact_url(url)}: {reason}")


def _excerpt(response: urllib.error.HTTPError) -> str:
    """': <first 200 characters>' of a text body, or nothing."""
    content_type = response.headers.get("Content-Type", "")
    if not (content_type.startswith("text/") or "json" in content_type):
        return ""
    try:
        text = response.read(EXCERPT * 4).decode("utf-8", errors="replace")
    except OSError:
        return ""
    text = " ".join(text.split())[:EXCERPT]
    return f": {text}" if text else ""
