"""One CSV file per system and table, safe to open in a spreadsheet.

UTF-8 with a byte-order mark (so that spreadsheets read accents right), a
header row that is the union of the records' keys in first-seen order (found
while data.json is written, so the table is read twice but never held), every
cell quoted (RFC 4180 via the csv module: commas, quotes and line breaks
survive). Nested values are written as JSON text, `null` as an empty cell.

A text cell that a spreadsheet would run as a formula (one starting with
`=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading single quote,
as OWASP recommends against CSV injection; data.json keeps the raw value.
Numbers and booleans are not text and are written as they are.
"""

import csv
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from dsr import results
from dsr.export.streams import TextWriter

#: the first characters that make a spreadsheet read a cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(text: str) -> str:
    """`text`, made inert if a spreadsheet would take it for a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


#: one encoder for every cell (json.dumps with options makes a new one at each call)
to_json = json.JSONEncoder(ensure_ascii=False).encode


def cell(value: Any) -> str:
    """What a record's value becomes in a CSV cell."""
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_START) else value
    if value is None:
        return ""
    return str(value) if kind is int else to_json(value)


def entry_name(connector: str, table: str) -> str:
    """`<connector>/<table>.csv`; a name that is not plain is made plain and told apart.

    Table names come from remote systems: none may climb out of the folder
    (`..`, `/`) when the person unzips the pack.
    """
    return f"{plain(connector)}/{plain(table)}.csv"


def plain(name: str) -> str:
    if results.SAFE_NAME.fullmatch(name):
        return name
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:40] or "table"
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def write_csv(out: TextWriter, header: list[str], records: Iterable[dict]) -> int:
    """Write the table to `out`; returns how many records (rows after the header)."""
    if not header:  # an empty table, or records without a single key: nothing to head
        return sum(1 for _record in records)
    out.write(BOM)
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise(key) for key in header])
    rows = 0
    for record in records:
        writer.writerow(map(cell, map(record.get, header)))
        rows += 1
    return rows
