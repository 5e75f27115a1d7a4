"""data.json: every system and table, values exactly as the systems returned them.

    {"systems": {"<connector>": {"label": "<name>", "tables": {"<table>": [{...}, ...]}}}}

Written by hand, one `json.dumps` per record and one record per line, so
that no table is ever held whole. On the way it learns each table's columns
(the union of its records' keys, in first-seen order) for the CSV files.
"""

import json

from dsr.export.selection import Selection, TablePart
from dsr.export.streams import TextWriter

#: one encoder for every record (json.dumps with options makes a new one at each call)
dumps = json.JSONEncoder(ensure_ascii=False).encode


def write_data_json(out: TextWriter, selection: Selection) -> dict[int, list[str]]:
    """Write data.json; returns each table's columns, by `id()` of its TablePart."""
    columns: dict[int, list[str]] = {}
    out.write('{"systems": {')
    for s, system in enumerate(selection.systems):
        out.write(f"{',' if s else ''}\n {dumps(system.connector)}: ")
        out.write(f'{{"label": {dumps(system.label)}, "tables": {{')
        for t, part in enumerate(system.tables):
            out.write(f"{',' if t else ''}\n  {dumps(part.table)}: [")
            columns[id(part)] = write_table(out, part)
            out.write("\n  ]" if part.count else "]")
        out.write("\n }}" if system.tables else "}}")
    out.write("\n}}\n" if selection.systems else "}}\n")
    return columns


def write_table(out: TextWriter, part: TablePart) -> list[str]:
    """Write the table's records as JSON array items; returns its columns."""
    seen: dict[str, None] = {}  # an ordered set
    separator = "\n   "
    for record in part.records():
        out.write(separator + dumps(record))
        separator = ",\n   "
        for key in record:
            if key not in seen:
                seen[key] = None
    return list(seen)
