"""Counting what a connector found or changed, and saying it in a few words.

The `outcome` of a `Result` is shown to handlers on the case page
("found 1 customer, 12 trips"); every kind that counts records words it here.
"""

from collections import Counter
from collections.abc import Mapping
from typing import Any

from connectors.base import RecordSink

NO_DATA = "no data"


def count_phrase(count: int, table: str) -> str:
    """'12 trips', '1 trip': table names are plural nouns, made singular for one."""
    if count == 1 and table.endswith("s") and not table.endswith("ss"):
        table = table[:-1]
    return f"{count} {table}"


def restriction_phrase(restricting: bool, changed: str, unchanged: str) -> str:
    """What restricting (or lifting) did: 'restricted 1 customer; 2 invoices already
    restricted', 'lifted the restriction of 1 contact', '1 contact not restricted'."""
    phrases = []
    if changed:
        phrases.append(
            f"restricted {changed}" if restricting else f"lifted the restriction of {changed}"
        )
    if unchanged:
        phrases.append(f"{unchanged} {'already' if restricting else 'not'} restricted")
    return "; ".join(phrases) or NO_DATA


class Tally:
    """A sink that counts the records per table on their way to another sink."""

    def __init__(self, sink: RecordSink):
        self.sink = sink
        self.counts: Counter[str] = Counter()

    def write(self, table: str, record: Mapping[str, Any]) -> None:
        self.counts[table] += 1
        self.sink.write(table, record)

    def summary(self) -> str:
        """'found 1 customer, 12 trips', or 'no data' when nothing was written."""
        if not self.counts:
            return NO_DATA
        return "found " + ", ".join(count_phrase(n, t) for t, n in self.counts.items())
