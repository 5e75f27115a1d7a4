"""The `sql` kind: a database the engine reads and erases in directly (SQLAlchemy Core).

Settings: `url` (or `url_env`, a variable holding it), `tables` (the mapping
of `connectors.sqlmap`), `region` (the country national phone numbers in the
database belong to, "FR" by default). The engine is created once per instance
and the declared tables are reflected at first use, which is also when the
mapping is checked against the live schema.

`access` writes every row of the person's root rows and of their children,
parents first, streaming; `erase` applies each table's strategy in one
transaction, children first, keeping what `details.keep` holds (`sqlhold`);
`rectify`, `restrict` and `lift_restriction` update the person's rows
(`sqlchange`). Restricting needs a `restrict_column` on at least one table:
without one, those two actions are left out of the instance's defaults.
"""

import base64
import datetime
import decimal
import re
import uuid
from contextlib import contextmanager

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from connectors.base import Connector, ConnectorConfigError, ConnectorError, Result, TaskOrder
from connectors.details import BadDetails, kept
from connectors.matching import Subject, normalise_phone
from connectors.outcome import NO_DATA, Tally, count_phrase
from connectors.sqlanon import anonymised_columns, placeholder
from connectors.sqlchange import ChangeActions, utcnow
from connectors.sqlhold import check_columns, held
from connectors.sqlmap import TableMap, parse_tables

#: rows fetched at a time when streaming a table
BATCH = 500


class SqlConnector(ChangeActions, Connector):
    """A database reached through any SQLAlchemy URL."""

    kind = "sql"
    settings_defaults = {"url": None, "tables": None, "region": "FR"}
    #: `url_env = "VARIABLE"` may stand for `url` (it usually holds a password)
    env_settings = ("url",)

    def configure(self, settings: dict) -> None:
        self.mapping: dict[str, TableMap] = parse_tables(settings["tables"])
        self.region = settings["region"]
        if self.region not in phonenumbers.SUPPORTED_REGIONS:
            raise ConnectorConfigError(
                f"region must be a country code such as 'FR', not {self.region!r}"
            )
        try:
            self.engine = sa.create_engine(settings["url"], pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise ConnectorConfigError(f"url is not a usable SQLAlchemy URL: {exc}") from None
        self._tables: dict[str, sa.Table] | None = None
        self._restrictable(settings)

    def _restrictable(self, settings: dict) -> None:
        """Restricting needs a table with a `restrict_column`: without one, the two actions
        are refused if listed, and left out of the defaults if not."""
        if any(m.restrict_column for m in self.mapping.values()):
            return
        marks = {"restrict", "lift_restriction"}
        listed = sorted(marks & set(settings.get("actions") or ()))
        if listed:
            raise ConnectorConfigError(
                f"action {listed[0]!r} needs restrict_column on a table "
                '(e.g. restrict_column = "restricted_at" on the person\'s table)'
            )
        self.actions = tuple(a for a in self.actions if a not in marks)

    def close(self) -> None:
        self.engine.dispose()

    def access(self, order: TaskOrder, sink) -> Result:
        """Write the person's rows of every declared table, parents first."""
        tally = Tally(sink)
        with self._connection() as conn:
            tables = self._reflect(conn)
            roots = self._find(conn, tables, order.subject)
            if not any(roots.values()):
                return Result(outcome=NO_DATA)
            for name, mapping in self.mapping.items():
                table = tables[name]
                columns = [c for c in table.c if c.name not in mapping.exclude]
                query = (
                    sa.select(*columns)
                    .where(self._selector(name, tables, roots))
                    .order_by(table.c[mapping.key])
                    .execution_options(yield_per=BATCH)
                )
                for row in conn.execute(query):
                    tally.write(name, {k: json_safe(v) for k, v in row._mapping.items()})
        return Result(outcome=tally.summary())

    def erase(self, order: TaskOrder, sink) -> Result:
        """Apply each table's strategy in one transaction, children before their parents.

        What `details.keep` names is kept whatever the mapping says (`sqlhold`);
        kept rows of a table with a `restrict_column` are marked restricted.
        Children go first so that their rows are still found through parents
        that have not been deleted yet; the root rows are found by key, before
        anything changes, so anonymising the matched columns loses nothing.
        """
        keep = self._details(kept, order)
        mapping = held(self.mapping, keep)
        with self._connection(transaction=True) as conn:
            tables = self._reflect(conn)
            check_columns(self.name, tables, keep)
            roots = self._find(conn, tables, order.subject)
            if not any(roots.values()):
                return Result(outcome=NO_DATA)
            done, now = {}, utcnow()
            for name in reversed(mapping):
                where = self._selector(name, tables, roots)
                done[name] = self._erase_table(conn, tables[name], mapping[name], where, now)
        phrases = [done[name] for name in mapping if done[name]]
        return Result(outcome="; ".join(phrases))

    def _erase_table(self, conn, table: sa.Table, mapping: TableMap, where, now) -> str:
        """Erase one table's rows of the person; the phrase for the outcome, '' if none."""
        if mapping.erase == "delete":
            count = conn.execute(sa.delete(table).where(where)).rowcount
            return f"deleted {count_phrase(count, table.name)}" if count else ""
        columns = anonymised_columns(table, mapping)
        key = table.c[mapping.key]
        values = {c.name: placeholder(c, key) for c in columns}
        if mapping.restrict_column:
            mark = table.c[mapping.restrict_column]
            values[mark.name] = sa.func.coalesce(mark, now)  # an earlier restriction stands
        if values:
            count = conn.execute(sa.update(table).where(where).values(values)).rowcount
        else:
            count = conn.execute(sa.select(sa.func.count()).select_from(table).where(where))
            count = count.scalar_one()
        if not count:
            return ""
        return _kept_phrase(count, table.name, mapping, columns)

    def _details(self, read, order: TaskOrder):
        """`read(order.details)` (a `connectors.details` reader); ConnectorError if malformed."""
        try:
            return read(order.details)
        except BadDetails as exc:
            raise ConnectorError(f"{self.name}: {exc}") from None

    @contextmanager
    def _connection(self, transaction: bool = False):
        """A connection (in a transaction when asked); database errors as ConnectorError."""
        try:
            with self.engine.begin() if transaction else self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            # the DBAPI's own message: SQLAlchemy's adds the statement and its
            # parameters, which hold the person's identifiers
            reason = self._without_password(str(getattr(exc, "orig", None) or exc))
            where = self.engine.url.render_as_string(hide_password=True)
            raise ConnectorError(f"{self.name}: database error at {where}: {reason}") from None

    def _without_password(self, text: str) -> str:
        """A driver's message may repeat the password outside any URL (a DSN's
        `password=...`): never let it reach a message."""
        password = self.engine.url.password
        return text.replace(str(password), "***") if password else text

    def _reflect(self, conn) -> dict[str, sa.Table]:
        """The declared tables, reflected once and checked against the mapping."""
        if self._tables is None:
            present = set(sa.inspect(conn).get_table_names())
            for name in self.mapping:
                if name not in present:
                    raise ConnectorError(f"{self.name}: table {name!r} does not exist")
            metadata = sa.MetaData()
            metadata.reflect(conn, only=list(self.mapping))
            tables = {name: metadata.tables[name] for name in self.mapping}
            for name, mapping in self.mapping.items():
                missing = sorted(mapping.named_columns() - set(tables[name].c.keys()))
                if missing:
                    raise ConnectorError(
                        f"{self.name}: table {name!r} has no column {missing[0]!r}"
                    )
            self._tables = tables
        return self._tables

    def _find(self, conn, tables, subject: Subject) -> dict[str, list]:
        """{root table: keys of the rows that match the person}."""
        return {
            name: sorted(self._find_in(conn, tables[name], mapping, subject))
            for name, mapping in self.mapping.items()
            if mapping.parent is None
        }

    def _find_in(self, conn, table: sa.Table, mapping: TableMap, subject: Subject) -> set:
        keys = set()
        for kind, column in mapping.match.items():
            values = subject.values(kind) if kind in self.match_on else ()
            if values:
                keys |= self._match(conn, table.c[mapping.key], table.c[column], kind, values)
        return keys

    def _match(self, conn, key, column, kind: str, values) -> set:
        """Keys of the rows whose `column` holds one of the normalised `values`."""
        if kind == "email":
            query = sa.select(key).where(sa.func.lower(column).in_(values))
        elif kind == "customer_number":
            query = sa.select(key).where(
                sa.func.upper(sa.func.replace(column, " ", "")).in_(values)
            )
        else:
            return self._match_phone(conn, key, column, values)
        return set(conn.execute(query).scalars())

    def _match_phone(self, conn, key, column, phones) -> set:
        """Phones are stored however people typed them ("06 12 34 56 78",
        "+33 6 12.34.56.78"), so SQL cannot compare them with our E.164 values.
        A cheap filter first: the last 8 digits in order, anything between them
        ('%1%2%3%4%5%6%7%8%'), portable and blind to separators; then each
        candidate is normalised in Python and compared exactly. Nothing extra is
        stored in the system's database, which is not ours to change."""
        patterns = ["%" + "%".join(re.sub(r"\D", "", phone)[-8:]) + "%" for phone in phones]
        query = sa.select(key, column).where(sa.or_(*(column.like(p) for p in patterns)))
        wanted = set(phones)
        rows = conn.execute(query.execution_options(yield_per=BATCH))
        return {
            k for k, value in rows if value and normalise_phone(str(value), self.region) in wanted
        }

    def _selector(self, name: str, tables, roots) -> sa.ColumnElement:
        """The condition on table `name` that selects the person's rows: the root
        keys, or the foreign key IN the parent's selected keys (any depth)."""
        mapping, table = self.mapping[name], tables[name]
        if mapping.parent is None:
            return table.c[mapping.key].in_(roots[name])
        parent_map, parent = self.mapping[mapping.parent], tables[mapping.parent]
        parent_keys = sa.select(parent.c[parent_map.key]).where(
            self._selector(mapping.parent, tables, roots)
        )
        return table.c[mapping.foreign_key].in_(parent_keys)


def _kept_phrase(count: int, table: str, mapping: TableMap, columns: list[sa.Column]) -> str:
    """'anonymised 1 customer (kept name; restricted)', 'retained 2 invoices (anonymised memo)'."""
    notes = []
    if mapping.erase == "anonymise":
        verb = "anonymised"
        kept_columns = [c for c, strategy in mapping.columns.items() if strategy == "retain"]
        if kept_columns:
            notes.append(f"kept {', '.join(kept_columns)}")
    else:
        verb = "retained"
        if columns:
            notes.append(f"anonymised {', '.join(c.name for c in columns)}")
    if mapping.restrict_column:
        notes.append("restricted")
    note = f" ({'; '.join(notes)})" if notes else ""
    return f"{verb} {count_phrase(count, table)}{note}"


def json_safe(value):
    """A database value as JSON can carry it: ISO 8601 dates, Decimal as text, bytes in base64."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
