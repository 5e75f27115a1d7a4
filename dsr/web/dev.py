"""Development pages: read the emails and text messages the `outbox` backends wrote.

Registered only in development (`DSR_ENV=development`). A message is opened only by a name found
in the outbox folder itself, so no path given in the URL ever reaches the
file system.
"""

import json
import logging
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

from dsr.sms import OUTBOX_SUFFIX

logger = logging.getLogger(__name__)

bp = Blueprint("dev", __name__, url_prefix="/dev")

#: the headers shown above a message's body
SHOWN_HEADERS = ("Date", "From", "To", "Subject", "Message-ID", "Content-Language")

#: an http(s) link in a plain-text body, without the punctuation that ends a sentence
LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def outbox() -> Path:
    return Path(current_app.config["OUTBOX_DIR"])


def message_names() -> list[str]:
    """The `.eml` files in the outbox, newest first (their names start with a UTC timestamp)."""
    folder = outbox()
    if not folder.is_dir():
        return []
    names = (entry.name for entry in folder.iterdir() if entry.is_file())
    return sorted((name for name in names if name.endswith(".eml")), reverse=True)


def text_messages() -> list[dict]:
    """The text messages (`.sms.json`) in the outbox, newest first."""
    folder = outbox()
    if not folder.is_dir():
        return []
    paths = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.name.endswith(OUTBOX_SUFFIX)),
        key=lambda p: p.name,
        reverse=True,
    )
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def read_message(name: str, headers_only: bool = False) -> EmailMessage:
    """Parse a message the outbox holds; 404 for any name it does not list."""
    if name not in message_names():
        abort(404)
    parser = BytesHeaderParser if headers_only else BytesParser
    with open(outbox() / name, "rb") as fh:
        return parser(policy=policy.default).parse(fh)


def linkify(text: str) -> list[tuple[str, str | None]]:
    """The body as (text, link) pieces; the template escapes both and builds the anchors."""
    pieces, start = [], 0
    for match in LINK.finditer(text):
        pieces.append((text[start : match.start()], None))
        pieces.append((match.group(), match.group()))
        start = match.end()
    pieces.append((text[start:], None))
    return [piece for piece in pieces if piece[0]]


@bp.get("/outbox")
def outbox_index():
    """Every email and text message written so far, newest first."""
    messages = [(name, read_message(name, headers_only=True)) for name in message_names()]
    return render_template("dev/outbox.html", messages=messages, texts=text_messages())


@bp.get("/outbox/<name>")
def outbox_message(name: str):
    """One message: its main headers, and its text with clickable links."""
    message = read_message(name)
    part = message.get_body(preferencelist=("plain",))
    body = part.get_content() if part is not None else ""
    headers = [(key, message[key]) for key in SHOWN_HEADERS if message[key] is not None]
    return render_template(
        "dev/message.html",
        name=name,
        subject=message["Subject"],
        headers=headers,
        pieces=linkify(body),
    )
