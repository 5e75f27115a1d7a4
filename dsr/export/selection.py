"""What goes out in a pack: every succeeded task's tables, less what a handler left out.

A type may narrow it to a scope (portability: the tables and columns the
person provided, `workflows.processing_register.portable_scope`); records are then cut
to those columns as they are read.

Art. 15(4): the copy must not adversely affect the rights of others, so a
handler may leave out a whole table or single records of it, each with a
reason; the pack lists them in its manifest as not communicated. A record is
named by its position in its table (0-based, in the order the system
returned them, which the stored file keeps).
"""

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

from flask_babel import gettext as _

from dsr import results, systems
from dsr.export.errors import PackError
from dsr.models import DataRequest, Task, TaskStatus
from workflows.processing_register import Scope


@dataclass(frozen=True)
class LeftOut:
    """A table, or one record of it, not communicated to the person, and why."""

    connector: str
    table: str
    reason: str
    #: the record's position in its table; None leaves the whole table out
    record: int | None = None


@dataclass
class TablePart:
    """One table of one system's answer, as it goes out."""

    task: Task
    table: str
    #: how many records the system returned (`Task.record_counts`)
    stored: int
    #: positions of the records left out of this table
    skipped: frozenset[int] = frozenset()
    #: the columns that go out, None for every column
    columns: frozenset[str] | None = None

    @property
    def count(self) -> int:
        """How many records go out."""
        return self.stored - len(self.skipped)

    def records(self) -> Iterator[dict]:
        """The records that go out, read lazily; PackError if the stored file is unreadable."""
        read = 0
        try:
            for position, record in enumerate(results.records(self.task, self.table)):
                read += 1
                if position in self.skipped:
                    continue
                if self.columns is None:
                    yield record
                else:
                    yield {key: value for key, value in record.items() if key in self.columns}
        except results.ResultsUnreadable as exc:
            raise PackError(self._unreadable(str(exc))) from exc
        if read != self.stored:
            raise PackError(
                self._unreadable(
                    _("%(read)s records found, %(stored)s expected", read=read, stored=self.stored)
                )
            )

    def _unreadable(self, why: str) -> str:
        return _(
            "The results of %(system)s, table %(table)s, cannot be read (%(why)s); "
            "the system must be asked again before the answer can be built.",
            system=self.task.connector,
            table=self.table,
            why=why,
        )


@dataclass
class SystemPart:
    """One system's answer: its label and the tables that go out (none if it found nothing)."""

    connector: str
    label: str
    tables: list[TablePart] = field(default_factory=list)


@dataclass
class Selection:
    systems: list[SystemPart]
    left_out: list[LeftOut]
    #: narrowed to a type's scope (portability), not everything the systems returned
    scoped: bool = False

    def tables(self) -> Iterator[tuple[SystemPart, TablePart]]:
        for system in self.systems:
            for part in system.tables:
                yield system, part

    @property
    def record_total(self) -> int:
        return sum(part.count for _system, part in self.tables())

    def not_communicated(self) -> list[dict]:
        """The left-out entries as the manifest and the README list them, with the label."""
        labels = {system.connector: system.label for system in self.systems}
        return [
            {**asdict(item), "label": labels.get(item.connector, item.connector)}
            for item in self.left_out
        ]


def label(connector: str) -> str:
    """The name the instance gives a system, or its key if it is no longer declared."""
    declared = systems.get(connector)
    return str(declared.label) if declared is not None else connector


def select(
    request: DataRequest, left_out: Iterable[LeftOut] = (), scope: Scope | None = None
) -> Selection:
    """Every succeeded task's tables within `scope` (None: all), less `left_out`;
    PackError if a left-out entry names nothing."""
    left_out = list(left_out)
    tasks = [task for task in request.tasks if task.status == TaskStatus.SUCCEEDED]
    if scope is not None:
        tasks = [task for task in tasks if any(c == task.connector for c, _t in scope)]
    whole = {(item.connector, item.table) for item in left_out if item.record is None}
    parts: list[SystemPart] = []
    for task in tasks:
        system = SystemPart(task.connector, label(task.connector))
        for table, stored in (task.record_counts or {}).items():
            key = (task.connector, table)
            if scope is not None and key not in scope:
                continue
            if key not in whole:
                skipped = frozenset(
                    item.record
                    for item in left_out
                    if (item.connector, item.table) == (task.connector, table)
                    and item.record is not None
                )
                columns = None if scope is None else scope[key]
                system.tables.append(TablePart(task, table, stored, skipped, columns))
        parts.append(system)
    check(left_out, tasks)
    return Selection(parts, left_out, scoped=scope is not None)


def check(left_out: list[LeftOut], tasks: list[Task]) -> None:
    """Every left-out entry names a table (and record) that exists, with a reason."""
    counts = {
        (task.connector, table): n
        for task in tasks
        for table, n in (task.record_counts or {}).items()
    }
    for item in left_out:
        stored = counts.get((item.connector, item.table))
        if stored is None:
            raise PackError(
                _(
                    "%(system)s returned no table %(table)s: it cannot be left out.",
                    system=item.connector,
                    table=item.table,
                )
            )
        if item.record is not None and not 0 <= item.record < stored:
            raise PackError(
                _(
                    "%(system)s, table %(table)s, has no record %(record)s.",
                    system=item.connector,
                    table=item.table,
                    record=item.record,
                )
            )
        if not item.reason.strip():
            raise PackError(
                _(
                    "Say why %(system)s, table %(table)s, is left out.",
                    system=item.connector,
                    table=item.table,
                )
            )
