"""The in-memory tables of a demo system, seeded from the demo people; safe across threads."""

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime


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
