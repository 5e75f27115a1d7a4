"""Rectification and restriction for the `sql` kind: updates of the person's rows.

A mixin of `SqlConnector`, which gives it `_connection`, `_reflect`, `_find`,
`_selector` and `_details`. Each action is one transaction: every change of a
rectification is checked before the first one is made.
"""

import datetime

import sqlalchemy as sa

from connectors.base import ConnectorError, Result, TaskOrder
from connectors.details import Field, changes
from connectors.outcome import NO_DATA, count_phrase, restriction_phrase


class ChangeActions:
    """`rectify`, `restrict` and `lift_restriction` of the sql kind."""

    def rectify(self, order: TaskOrder, sink) -> Result:
        """Set each changed column to its new value on the person's rows."""
        wanted = self._details(changes, order)
        with self._connection(transaction=True) as conn:
            tables = self._reflect(conn)
            for change in wanted:
                self._check_rectifiable(tables, change.field)
            roots = self._find(conn, tables, order.subject)
            if not any(roots.values()):
                return Result(outcome=NO_DATA)
            phrases = []
            for change in wanted:
                name, column = change.field.table, change.field.column
                where = self._selector(name, tables, roots)
                update = sa.update(tables[name]).where(where).values({column: change.new})
                count = conn.execute(update).rowcount
                phrases.append(f"{change.field} on {count_phrase(count, name)}")
        return Result(outcome="changed " + "; ".join(phrases))

    def _check_rectifiable(self, tables: dict[str, sa.Table], field: Field) -> None:
        """ConnectorError naming the field if this system has no such column, or it is a key."""
        mapping, table = self.mapping.get(field.table), tables.get(field.table)
        if mapping is None or field.column not in table.c:
            raise ConnectorError(f"{self.name} has no field {str(field)!r}")
        column = table.c[field.column]
        keys = {mapping.key, mapping.foreign_key, mapping.restrict_column}
        if field.column in keys or column.primary_key or column.foreign_keys:
            raise ConnectorError(f"{self.name}: {field} is a key or a mark, not the person's data")

    def restrict(self, order: TaskOrder, sink) -> Result:
        """Mark the person's rows restricted (the first restriction's date stands)."""
        return self._mark(order, utcnow())

    def lift_restriction(self, order: TaskOrder, sink) -> Result:
        """Empty the restriction mark of the person's rows."""
        return self._mark(order, None)

    def _mark(self, order: TaskOrder, when) -> Result:
        """Set every `restrict_column` of the person's rows to `when` where it is not yet."""
        changed, unchanged = [], []
        with self._connection(transaction=True) as conn:
            tables = self._reflect(conn)
            roots = self._find(conn, tables, order.subject)
            if not any(roots.values()):
                return Result(outcome=NO_DATA)
            for name, mapping in self.mapping.items():
                if not mapping.restrict_column:
                    continue
                table, where = tables[name], self._selector(name, tables, roots)
                mark = table.c[mapping.restrict_column]
                due = mark.is_(None) if when else mark.is_not(None)
                count = conn.execute(
                    sa.update(table).where(where, due).values({mark.name: when})
                ).rowcount
                total = conn.execute(sa.select(sa.func.count()).select_from(table).where(where))
                changed.append(count_phrase(count, name) if count else "")
                rest = total.scalar_one() - count
                unchanged.append(count_phrase(rest, name) if rest else "")
        done, left = ", ".join(filter(None, changed)), ", ".join(filter(None, unchanged))
        return Result(outcome=restriction_phrase(when is not None, done, left))


def utcnow() -> datetime.datetime:
    """Now, in UTC without a zone: how the date-time columns of such databases are written."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
