"""An erasure's legal hold (`details.keep`) applied to the table mapping of an `sql` instance.

The register's legal holds name fields of this system; the engine sends them
in `keep`, and erasure must keep them whatever the mapping says:

- a whole table kept (`invoices`): its rows stay as they are (`erase = "retain"`);
- a column kept (`customers.name`): its rows stay (a "delete" table is anonymised
  instead) with that column retained;
- the parents of kept rows are anonymised rather than deleted, so that kept
  rows never point at nothing.

A table the mapping does not declare is never touched by erasure, so keeping
it needs nothing. A kept column must exist (`check_columns`): an erasure that
cannot honour the hold is refused before anything changes.
"""

from dataclasses import replace

import sqlalchemy as sa

from connectors.base import ConnectorError
from connectors.details import Field
from connectors.sqlmap import TableMap


def held(mapping: dict[str, TableMap], keep: list[Field]) -> dict[str, TableMap]:
    """The mapping an erasure applies when `keep` is under a legal hold (same order)."""
    result = dict(mapping)
    for field in keep:
        table = result.get(field.table)
        if table is None:
            continue
        if field.column is None:
            result[field.table] = replace(table, erase="retain", columns={})
        else:
            erase = "anonymise" if table.erase == "delete" else table.erase
            columns = {**table.columns, field.column: "retain"}
            result[field.table] = replace(table, erase=erase, columns=columns)
        parent = table.parent
        while parent:
            above = result[parent]
            if above.erase == "delete":
                result[parent] = replace(above, erase="anonymise")
            parent = above.parent
    return result


def check_columns(name: str, tables: dict[str, sa.Table], keep: list[Field]) -> None:
    """ConnectorError if a kept column of a declared table does not exist."""
    for field in keep:
        table = tables.get(field.table)
        if table is not None and field.column and field.column not in table.c:
            raise ConnectorError(
                f"{name}: cannot keep {field} (legal hold): table {field.table!r} "
                f"has no column {field.column!r}"
            )
