"""The in-memory tables of a demo system, seeded from the demo people; safe across threads."""

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from connectors.demo import people
from connectors.outcome import count_phrase, restriction_phrase


class SeededStore:
    """A system's tables (`TABLES`), filled by `seed()` and back to it on `reset()`."""

    TABLES: tuple[str, ...] = ()

    def __init__(self, today: date | None = None):
        self.today = today or datetime.now(UTC).date()
        self._lock = threading.Lock()
        self.reset()

    def seed(self) -> Iterable[tuple[str, list[dict]]]:
        """(table, rows) pairs of the seeded data."""
        raise NotImplementedError

    def owner_key(self, table: str) -> str:
        """The column of `table` that names whom a row is about (a contact id, a number)."""
        raise NotImplementedError

    def update(self, table: str, owners: Iterable, column: str, value) -> int:
        """Set `column` to `value` on a table's rows about these people; how many."""
        owners, key = set(owners), self.owner_key(table)
        with self._lock:
            rows = [row for row in self.tables[table] if row[key] in owners]
            for row in rows:
                row[column] = value
        return len(rows)

    def mark_restricted(self, owners: Iterable, restricted: bool) -> tuple[int, int]:
        """Set `restricted_at` (now; an earlier date stands) or empty it on these people's
        contacts; (changed, already so)."""
        owners, key = set(owners), self.owner_key("contacts")
        now, changed, same = people.iso(datetime.now(UTC)), 0, 0
        with self._lock:
            for row in self.tables["contacts"]:
                if row[key] not in owners:
                    continue
                if bool(row["restricted_at"]) == restricted:
                    same += 1
                else:
                    row["restricted_at"] = now if restricted else None
                    changed += 1
        return changed, same

    def reset(self) -> None:
        """Back to the seeded data."""
        tables: dict[str, list[dict]] = {t: [] for t in self.TABLES}
        for table, rows in self.seed():
            tables[table].extend(rows)
        with self._lock:
            self.tables = tables

    def delete_rows(self, about: Callable[[str, dict], bool]) -> dict[str, int]:
        """Delete the rows `about(table, row)` selects; how many per table."""
        counts = {}
        with self._lock:
            for table, rows in self.tables.items():
                kept = [row for row in rows if not about(table, row)]
                counts[table] = len(rows) - len(kept)
                self.tables[table] = kept
        return counts


def hold(row: dict, columns: Iterable[str], kept: set, keys: Iterable[str], now: str) -> None:
    """Keep a row under a legal hold: its `keys` and the `kept` columns (every column when
    None, the whole table, is among them), the others emptied; marked `restricted_at`
    (the first date stands)."""
    if None not in kept:
        for column in columns:
            if column not in kept and column not in keys and column != "restricted_at":
                row[column] = None
    row["restricted_at"] = row.get("restricted_at") or now


def changed(store: SeededStore, owners: Iterable, wanted) -> str:
    """Apply `rectify` changes on these people's rows; the outcome phrase."""
    done = []
    for change in wanted:
        field = change.field
        count = store.update(field.table, owners, field.column, change.new)
        done.append(f"{field} on {count_phrase(count, field.table)}")
    return "changed " + "; ".join(done)


def marked(store: SeededStore, owners: Iterable, restricting: bool) -> str:
    """Restrict these people's contacts, or lift it; the outcome phrase."""
    changed_count, same = store.mark_restricted(owners, restricting)
    return restriction_phrase(
        restricting,
        count_phrase(changed_count, "contacts") if changed_count else "",
        count_phrase(same, "contacts") if same else "",
    )
