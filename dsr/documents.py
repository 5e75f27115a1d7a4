"""Documents a person uploads for their request: after a death, the death certificate and
the proof of being the designated person or an heir (Loi 78-17 Art. 85).

Only PDF, PNG and JPEG files are taken, recognised by their first bytes (what
the browser claims is ignored), up to `DOCUMENT_MAX_BYTES` (10 MB) each and
`MAX_DOCUMENTS` a request. Each is sealed under the request's data key in
`RESULTS_DIR/<ref>/documents/<id>.sealed` as it arrives, so it is deleted with
the results under the retention setting; a file refused halfway leaves nothing.
Every upload is an audit event (kind, type and size: never the name or content).
"""

import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from dsr import audit, keys, results, sealed
from dsr.export.reading import chunks
from dsr.extensions import db
from dsr.models import DataRequest, Document, Question

FOLDER = "documents"
CHUNK = 64 * 1024
MAX_DOCUMENTS = 10
#: what a document may be meant to prove
KINDS = {
    "death_certificate": _l("Death certificate"),
    "proof_of_quality": _l("Proof that you are the designated person or an heir"),
    "other": _l("Other document"),
}
#: a file's first bytes -> its media type: the only types taken
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class DocumentRefused(Exception):
    """A file that is not taken; the message says why. `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def accepting(request: DataRequest) -> bool:
    """Whether the request takes documents: a death notice not closed yet."""
    return (
        request.type == "post_mortem"
        and (request.details or {}).get("mode") == "death_notice"
        and not request.status_enum.is_final
    )


def of_request(request: DataRequest) -> list[Document]:
    return list(
        db.session.scalars(
            select(Document).where(Document.request_id == request.id).order_by(Document.id)
        )
    )


def media_type(head: bytes) -> str | None:
    return next((media for magic, media in SIGNATURES if head.startswith(magic)), None)


def tidy_name(filename: str) -> str:
    """A name safe to show and to offer back: no path, no control characters, 200 at most."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    return re.sub(r"\s+", " ", name).strip()[:200] or "document"


def path_of(document: Document, ref: str):
    return results.request_folder(ref) / FOLDER / f"{document.id}.sealed"


def context_of(document: Document) -> str:
    return f"{FOLDER}/{document.id}"


def store(
    request: DataRequest,
    kind: str,
    stream: BinaryIO,
    filename: str,
    *,
    question: Question | None = None,
) -> Document:
    """Check, seal and record one upload (the caller commits). DocumentRefused, and
    nothing kept, for a kind, type, size or count that is not taken. `question`: the open
    question (`dsr.asking`) whose answer the file comes with, which any request takes."""
    if question is None and not accepting(request):
        raise DocumentRefused(_("This request does not take documents."), 409)
    if kind not in KINDS:
        raise DocumentRefused(_("Say what the document is."))
    count = db.session.scalar(
        select(func.count()).select_from(Document).where(Document.request_id == request.id)
    )
    if count >= MAX_DOCUMENTS:
        raise DocumentRefused(
            _("At most %(number)d documents per request.", number=MAX_DOCUMENTS), 409
        )
    head = stream.read(CHUNK)
    media = media_type(head)
    if not head:
        raise DocumentRefused(_("Choose a file to send."))
    if media is None:
        raise DocumentRefused(_("Send a PDF file or a photo (PNG or JPEG)."), 415)
    key = keys.ensure_data_key(request)
    document = Document(
        request_id=request.id,
        kind=kind,
        filename=tidy_name(filename),
        media_type=media,
        question_id=question.id if question is not None else None,
    )
    document.size, document.sha256 = 0, ""
    db.session.add(document)
    db.session.flush()  # its id names its file
    path = path_of(document, request.ref)
    results.make_private_folder(path.parent)
    partial = path.with_name(f"{path.name}.{secrets.token_hex(4)}.partial")
    limit = current_app.config["DOCUMENT_MAX_BYTES"]
    digest, size = hashlib.sha256(), 0
    try:
        with results.private_file(partial) as raw:
            writer = sealed.SealedWriter(raw, key, context_of(document))
            while head:
                size += len(head)
                if size > limit:
                    raise DocumentRefused(
                        _("A file may be %(mb)d MB at most.", mb=limit // 1_000_000), 413
                    )
                digest.update(head)
                writer.write(head)
                head = stream.read(CHUNK)
            writer.close()
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    document.size, document.sha256 = size, digest.hexdigest()
    audit.record(
        "document.uploaded",
        actor="subject",
        request_id=request.id,
        data={"kind": kind, "media_type": media, "size": size},
    )
    return document


def read(document: Document, request: DataRequest) -> Iterator[bytes]:
    """The document decrypted as it is read (FileNotFoundError, KeyUnavailable if gone)."""
    key = keys.data_key(request)
    handle = open(path_of(document, request.ref), "rb")
    return chunks(sealed.SealedReader(handle, key, context_of(document)))
