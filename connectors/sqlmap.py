"""The table mapping of an `sql` instance: where a person's rows are, and what erasing means.

    [connectors.billing.tables.customers]
    key = "id"                                   # default "id"
    match = { email = "email", phone = "phone" } # identifier kind -> column
    erase = "anonymise"                          # delete (default) | anonymise | retain
    columns = { name = "retain" }                # per-column: anonymise | retain
    exclude = ["password_hash"]                  # never exported
    restrict_column = "restricted_at"            # set when the person's rows are restricted

    [connectors.billing.tables.invoices]
    parent = "customers"                         # rows found through the parent, any depth
    foreign_key = "customer_id"                  # invoices.customer_id -> customers.<key>

`restrict_column` names a nullable date-time column that `restrict` sets to the
time of the restriction and `lift_restriction` empties; erasure sets it on the
rows it keeps (anonymised or retained), which are kept for a legal obligation
only. Without one on any table, the instance cannot restrict.

`parse_tables` checks everything that can be checked without the database;
the columns themselves are checked against the live schema at first use.
"""

from dataclasses import dataclass, field

from connectors.base import ConnectorConfigError
from connectors.matching import IDENTIFIER_KINDS

STRATEGIES = ("delete", "anonymise", "retain")
COLUMN_STRATEGIES = ("anonymise", "retain")
TABLE_SETTINGS = (
    "key",
    "match",
    "parent",
    "foreign_key",
    "erase",
    "columns",
    "exclude",
    "restrict_column",
)


@dataclass(frozen=True)
class TableMap:
    """One declared table. `depth` is 0 for a table matched directly, +1 per parent."""

    name: str
    key: str
    erase: str
    depth: int
    match: dict[str, str] = field(default_factory=dict)
    parent: str | None = None
    foreign_key: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    restrict_column: str | None = None

    def named_columns(self) -> set[str]:
        """Every column the mapping names, to check against the live schema."""
        named = {self.key, *self.match.values(), *self.columns, *self.exclude}
        optional = (self.foreign_key, self.restrict_column)
        return named | {column for column in optional if column}


def parse_tables(tables) -> dict[str, TableMap]:
    """The mapping, parents before children; ConnectorConfigError if it cannot work."""
    if not isinstance(tables, dict) or not tables:
        raise ConnectorConfigError("tables must be a non-empty table of [tables.<name>] tables")
    for name, spec in tables.items():
        _check_table(name, spec, tables)
    parents = {name: spec.get("parent") for name, spec in tables.items()}
    maps = [_table_map(name, spec, _depth(name, parents)) for name, spec in tables.items()]
    mapping = {m.name: m for m in sorted(maps, key=lambda m: m.depth)}
    _check_orphans(mapping)
    return mapping


def _check_table(name: str, spec, tables: dict) -> None:
    where = f"tables.{name}"
    if not isinstance(spec, dict):
        raise ConnectorConfigError(f"{where} must be a table")
    unknown = sorted(set(spec) - set(TABLE_SETTINGS))
    if unknown:
        raise ConnectorConfigError(
            f"{where}: unknown setting {unknown[0]!r} (allowed: {', '.join(TABLE_SETTINGS)})"
        )
    for key in ("key", "parent", "foreign_key", "restrict_column"):
        if key in spec and not (isinstance(spec[key], str) and spec[key]):
            raise ConnectorConfigError(f"{where}: {key} must be a name")
    if ("match" in spec) == ("parent" in spec):
        raise ConnectorConfigError(
            f"{where} needs either match (columns holding the person's identifiers) "
            "or parent (the table its rows belong to), and not both"
        )
    if "parent" in spec:
        if spec["parent"] not in tables:
            raise ConnectorConfigError(
                f"{where}: parent {spec['parent']!r} is not declared "
                f"(declared: {', '.join(tables)})"
            )
        if "foreign_key" not in spec:
            raise ConnectorConfigError(
                f"{where}: foreign_key is required with parent "
                f"(the column of {name} that holds the {spec['parent']} key)"
            )
    else:
        _check_match(where, spec["match"])
    _check_erase(where, spec)
    exclude = spec.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(c, str) for c in exclude):
        raise ConnectorConfigError(f"{where}: exclude must be a list of column names")


def _check_match(where: str, match) -> None:
    if not isinstance(match, dict) or not match:
        raise ConnectorConfigError(
            f'{where}: match must map identifiers to columns, e.g. {{ email = "email" }}'
        )
    for kind, column in match.items():
        if kind not in IDENTIFIER_KINDS:
            raise ConnectorConfigError(
                f"{where}: match: unknown identifier {kind!r} "
                f"(known: {', '.join(IDENTIFIER_KINDS)})"
            )
        if not (isinstance(column, str) and column):
            raise ConnectorConfigError(f"{where}: match.{kind} must be a column name")


def _check_erase(where: str, spec: dict) -> None:
    erase = spec.get("erase", "delete")
    if erase not in STRATEGIES:
        raise ConnectorConfigError(
            f"{where}: unknown erase strategy {erase!r} (known: {', '.join(STRATEGIES)})"
        )
    columns = spec.get("columns", {})
    if not isinstance(columns, dict):
        raise ConnectorConfigError(f'{where}: columns must map columns to "anonymise" or "retain"')
    if columns and erase == "delete":
        raise ConnectorConfigError(
            f"{where}: columns only apply when erase is anonymise or retain (rows are deleted)"
        )
    untouchable = {spec.get("key", "id"), spec.get("foreign_key")}
    mark = spec.get("restrict_column")
    if mark and mark in {*untouchable, *columns}:
        raise ConnectorConfigError(
            f"{where}: restrict_column {mark!r} must be a column of its own, "
            "not a key nor one of columns"
        )
    for column, strategy in columns.items():
        if strategy not in COLUMN_STRATEGIES:
            raise ConnectorConfigError(
                f"{where}: columns.{column}: unknown strategy {strategy!r} "
                f"(known: {', '.join(COLUMN_STRATEGIES)})"
            )
        if strategy == "anonymise" and column in untouchable:
            raise ConnectorConfigError(
                f"{where}: columns.{column}: keys and foreign keys are never anonymised"
            )


def _depth(name: str, parents: dict, seen: tuple[str, ...] = ()) -> int:
    if name in seen:
        cycle = (*seen[seen.index(name) :], name)
        raise ConnectorConfigError(f"tables form a cycle: {' -> '.join(cycle)}")
    parent = parents[name]
    return 0 if parent is None else 1 + _depth(parent, parents, (*seen, name))


def _table_map(name: str, spec: dict, depth: int) -> TableMap:
    return TableMap(
        name=name,
        key=spec.get("key", "id"),
        erase=spec.get("erase", "delete"),
        depth=depth,
        match=dict(spec.get("match", {})),
        parent=spec.get("parent"),
        foreign_key=spec.get("foreign_key"),
        columns=dict(spec.get("columns", {})),
        exclude=tuple(spec.get("exclude", ())),
        restrict_column=spec.get("restrict_column"),
    )


def _check_orphans(mapping: dict[str, TableMap]) -> None:
    """A deleted row cannot leave kept children pointing at nothing."""
    for child in mapping.values():
        parent = mapping.get(child.parent) if child.parent else None
        if parent and parent.erase == "delete" and child.erase != "delete":
            raise ConnectorConfigError(
                f"tables.{parent.name}: erase = 'delete' would leave the {child.name} rows "
                f"it keeps (erase = '{child.erase}') pointing at nothing; "
                "use 'anonymise' or 'retain'"
            )
