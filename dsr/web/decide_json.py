"""A case's notes and duplicates as the staff API shows them (in `GET /api/v1/requests/<ref>`
and the decisions' answers); for staff only, never in what the person receives."""

from dsr import duplicates, notes
from dsr.models import CaseNote, DataRequest
from dsr.web.api import iso_utc


def note_json(note: CaseNote) -> dict:
    return {
        "id": note.id,
        "author": note.author,
        "text": note.text,
        "created_at": iso_utc(note.created_at),
    }


def desk_fields(req: DataRequest) -> dict:
    """`notes`, `duplicates` (both directions) and `merged_into` (a reference, or null)."""
    linked = duplicates.linked(req)
    return {
        "notes": [note_json(note) for note in notes.of_request(req)],
        "duplicates": [
            {"ref": other.ref, "status": other.status, "received_at": iso_utc(other.received_at)}
            for other in linked
        ],
        "merged_into": next((o.ref for o in linked if o.id == req.merged_into_id), None),
    }
