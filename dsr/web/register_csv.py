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

import workflows
from dsr.accountability import BATCH, Entry, entries
from dsr.export.csv_table import BOM, neutralise
from dsr.status import RequestStatus
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


class Words:
    """The register's words in the reader's language, each looked up once."""

    def __init__(self):
        self.types = {name: type_title(name) for name in workflows.names()}
        self.statuses = {str(status): status_label(status) for status in RequestStatus}
        self.verdicts = {None: "", True: _("yes"), False: _("no")}

    def row(self, entry: Entry) -> list[str]:
        return [
            entry.ref,
            self.types.get(entry.type) or type_title(entry.type),
            iso(entry.received),
            iso(entry.due),
            iso(entry.extended_to),
            iso(entry.answered),
            self.statuses[entry.status],
            self.verdicts[entry.on_time],
        ]


def chunks() -> Iterator[str]:
    """The register as CSV text, a thousand rows a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([str(title) for title in COLUMNS])
    words = Words()
    for n, entry in enumerate(entries(), start=1):
        writer.writerow([neutralise(value) for value in words.row(entry)])
        if n % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
