"""manifest.json: what the pack is and holds, so a machine can check every file.

    {"schema_version": "1", "reference": "DSR-2026-000001", "type": "access",
     "controller": "<name>", "language": "fr", "generated_at": "2026-11-27T14:00:00Z",
     "systems": [{"connector": "crm", "label": "CRM", "tables": {"contacts": 1}}],
     "files": [{"name": "data.json", "sha256": "<hex>", "size": <bytes>, "records": <n>}],
     "not_communicated": [{"connector": "crm", "label": "CRM", "table": "notes",
                           "record": null, "reason": "<why>"}]}

`files` lists every other file of the ZIP (`size` uncompressed, `records`
null where a file holds no records); `systems` gives the records that went
out per table (a system that found nothing has no tables); `record` in
`not_communicated` is the record's position in the system's table (from 0),
or null for the whole table.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from dsr.export.selection import Selection
from dsr.models import DataRequest

NAME = "manifest.json"
SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class FileEntry:
    """One file of the pack, as the manifest lists it."""

    name: str
    sha256: str
    size: int
    records: int | None = None


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def manifest(
    request: DataRequest, selection: Selection, files: list[FileEntry], generated_at: datetime
) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "reference": request.ref,
        "type": request.type,
        "controller": current_app.config["INSTANCE"]["controller"]["name"],
        "language": request.language,
        "generated_at": iso_utc(generated_at),
        "systems": [
            {
                "connector": system.connector,
                "label": system.label,
                "tables": {part.table: part.count for part in system.tables},
            }
            for system in selection.systems
        ],
        "files": [entry.__dict__ for entry in files],
        "not_communicated": selection.not_communicated(),
    }


def render_manifest(*args) -> bytes:
    return (json.dumps(manifest(*args), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
