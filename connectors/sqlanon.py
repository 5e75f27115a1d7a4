"""What anonymising a row of an `sql` table means, column by column.

A column is anonymised when its table's strategy (or its own override) says
so, unless it is a key or a foreign key: those hold no personal data by
themselves and keep the rows that are retained linked together (nor is the
`restrict_column`, which says why a kept row is kept). An
anonymised column becomes NULL when it may; otherwise a neutral value of its
type, and for text "anonymised-<row key>", which stays unique for columns
that must be.
"""

import datetime

import sqlalchemy as sa

from connectors.base import ConnectorError
from connectors.sqlmap import TableMap

PREFIX = "anonymised-"

#: neutral values for NOT NULL columns, by type (checked in this order)
_NEUTRAL = (
    (sa.Boolean, False),
    (sa.Integer, 0),
    (sa.Numeric, 0),
    (sa.DateTime, datetime.datetime(1970, 1, 1)),
    (sa.Date, datetime.date(1970, 1, 1)),
    (sa.Time, datetime.time(0)),
    (sa.LargeBinary, b""),
)


def anonymised_columns(table: sa.Table, mapping: TableMap) -> list[sa.Column]:
    """The columns of `table` that erasing a row anonymises."""
    keys = {mapping.key, mapping.foreign_key, *table.primary_key.columns.keys()}
    keys.add(mapping.restrict_column)  # the mark says why the row is kept
    keys |= {c.name for c in table.c if c.foreign_keys}
    return [
        column
        for column in table.c
        if column.name not in keys
        and mapping.columns.get(column.name, mapping.erase) == "anonymise"
    ]


def placeholder(column: sa.Column, key: sa.Column):
    """NULL, or the neutral value (a SQL expression for text) of a NOT NULL column."""
    if column.nullable:
        return None
    kind = column.type
    if isinstance(kind, sa.String) and not isinstance(kind, sa.Enum):
        return sa.literal(PREFIX, sa.String) + sa.cast(key, sa.String)
    for type_, value in _NEUTRAL:
        if isinstance(kind, type_):
            return value
    raise ConnectorError(
        f"cannot anonymise {column.table.name}.{column.name} ({kind}, NOT NULL): "
        'make it nullable or set it to "retain"'
    )
