"""Case references: `DSR-YYYY-NNNNNN`, unique and sequential per year."""

from sqlalchemy import text

from dsr.extensions import db

#: one statement that both SQLite (3.35+) and PostgreSQL run atomically
_NEXT = text(
    "INSERT INTO reference_counters (year, last) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = reference_counters.last + 1 "
    "RETURNING last"
)


def next_reference(year: int) -> str:
    """Take the next number of `year` in the current transaction."""
    number = db.session.execute(_NEXT, {"year": year}).scalar_one()
    return f"DSR-{year:04d}-{number:06d}"
