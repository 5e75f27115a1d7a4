"""Credentials out of messages: a URL loses its user info, query and fragment before any
error, audit event or page names it.

Task errors are shown to every viewer and written to the audit chain, where they
cannot be removed without breaking it; a connector URL may carry a password
(`https://user:pass@host/`) or a token in its query string, and library errors
(urllib, SQLAlchemy) repeat the URL they were given.
"""

import re
from urllib.parse import urlsplit

#: a URL anywhere in a text: a scheme, "://", and everything up to a blank or a quote,
#: without the punctuation that ends a sentence
URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>.,;:!?)\]]")


def redact_url(url: str) -> str:
    """`url` as scheme://host[:port]/path: no user, password, query or fragment."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a port that is not a number, a bracket left open
        return f"{url.split('://', 1)[0]}://…" if "://" in url else "…"
    if "@" not in parts.netloc and not parts.query and not parts.fragment:
        return url
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path}"


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted."""
    return URL.sub(lambda match: redact_url(match.group()), text)
