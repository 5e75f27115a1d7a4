"""Notes of the privacy team on a case: for staff only, never on the person's status page,
never in what the person receives. Adding one is an audit event (its id, not its text,
which may quote the person); the anonymisation deletes them with the person's data."""

from flask_babel import gettext as _
from sqlalchemy import select

from dsr import audit
from dsr.decisions import DecisionError
from dsr.extensions import db
from dsr.models import CaseNote, DataRequest

#: the longest note
NOTE_LIMIT = 4000


def add(request: DataRequest, text: str, *, author: str, actor: str) -> CaseNote:
    """Keep a note on the case by `author` (an email address); the caller commits."""
    text = (text or "").strip()
    if not text or len(text) > NOTE_LIMIT:
        raise DecisionError(_("Write the note (at most %(limit)d characters).", limit=NOTE_LIMIT))
    if request.anonymised_at is not None:
        raise DecisionError(_("This request was anonymised: it takes no more notes."))
    note = CaseNote(request_id=request.id, author=author, text=text)
    db.session.add(note)
    db.session.flush()
    audit.record("note.added", actor=actor, request_id=request.id, data={"note_id": note.id})
    return note


def of_request(request: DataRequest) -> list[CaseNote]:
    """The case's notes, oldest first."""
    query = select(CaseNote).where(CaseNote.request_id == request.id).order_by(CaseNote.id)
    return list(db.session.scalars(query))
