"""The register of requests (`dsr.accountability`) as a CSV file in the reader's language.

UTF-8 with a byte-order mark and every cell quoted, like the answer packs'
CSVs; each cell goes through `dsr.export.csv_table.neutralise`, so none is run
as a formula. Written in chunks as the rows are read: memory stays flat.
"""

import csv
import io
from collections.abc import Iterator
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.accountability import BATCH, Entry, entries
from dsr.export.csv_table import BOM, neutralise
from dsr.templating import type_title
from dsr.web.staff_text import status_label

COLUMNS = (
    _l("Reference"),
    _l("Right"),
    _l("Received"),
    _l("Due"),
    _l("Extended to"),
    _l("Answered"),
    _l("Outcome"),
    _l("Answered on time"),
)


def iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def row(entry: Entry, yes: str, no: str) -> list[str]:
    verdict = "" if entry.on_time is None else (yes if entry.on_time else no)
    return [
        entry.ref,
        type_title(entry.type),
        iso(entry.received),
        iso(entry.due),
        iso(entry.extended_to),
        iso(entry.answered),
        status_label(entry.status),
        verdict,
    ]


def chunks() -> Iterator[str]:
    """The register as CSV text, a thousand rows a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([str(title) for title in COLUMNS])
    yes, no = _("yes"), _("no")
    for n, entry in enumerate(entries(), start=1):
        writer.writerow([neutralise(value) for value in row(entry, yes, no)])
        if n % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
