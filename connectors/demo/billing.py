"""The demo billing system: a SQLite file for the `sql` connector kind.

    python -m connectors.demo.billing --db instance/demo/billing.sqlite3

(Re)creates the file from `people`: customers with their trips, payment
methods, invoices (one per month with trips) and payments. The file is
written beside the target and renamed over it, so running the command again
is safe and a reader never sees half a file.

Phones are stored in the formats people really type (`06 39 98 00 01`,
`+33639980001`, `0033 6 39 98 00 01`, ...) and some emails with capitals, on
purpose: the connector has to match them with normalised identifiers.

`restricted_at` on customers, invoices and payments is the sql connector's
`restrict_column`: empty until the person's data is restricted, and set on the
rows an erasure keeps under the accounting legal hold.
"""

import argparse
import os
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
)
from sqlalchemy.exc import SQLAlchemyError

from connectors.demo import people

DEFAULT_DB = Path("instance/demo/billing.sqlite3")

metadata = MetaData()
customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_number", String(16), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("email", String(254)),
    Column("phone", String(32)),
    Column("billing_address", String(200)),
    Column("created_at", DateTime, nullable=False),
    Column("restricted_at", DateTime),  # set while the customer's data is restricted
)
trips = Table(
    "trips",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=False),
    Column("start_place", String(200), nullable=False),
    Column("end_place", String(200), nullable=False),
    Column("distance_km", Float, nullable=False),
    Column("fare_eur", Float, nullable=False),
)
payment_methods = Table(
    "payment_methods",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("brand", String(20), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("expiry", String(5), nullable=False),
    Column("created_at", DateTime, nullable=False),
)
invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("issued_at", DateTime, nullable=False),
    Column("total_eur", Float, nullable=False),
    Column("restricted_at", DateTime),
)
payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("invoice_id", ForeignKey("invoices.id"), nullable=False, index=True),
    Column("paid_at", DateTime, nullable=False),
    Column("amount_eur", Float, nullable=False),
    Column("reference", String(20), nullable=False),
    Column("status", String(10), nullable=False),
    Column("restricted_at", DateTime),
)


def _pairs(digits: str) -> str:
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


#: how customers typed their number; `d` is the national number without its 0 (639980001)
PHONE_FORMATS: tuple[Callable[[str], str], ...] = (
    lambda d: _pairs("0" + d),  # 06 39 98 00 01
    lambda d: "+33" + d,  # +33639980001
    lambda d: f"0033 {d[0]} {_pairs(d[1:])}",  # 0033 6 39 98 00 01
    lambda d: "0" + d,  # 0639980001
    lambda d: _pairs("0" + d).replace(" ", "."),  # 06.39.98.00.01
    lambda d: f"+33 {d[0]} {_pairs(d[1:])}",  # +33 6 39 98 00 01
)
BRANDS = ("CB", "Visa", "Mastercard", "American Express")
#: parents before children
TABLES = (customers, trips, payment_methods, invoices, payments)


class Rows:
    """The rows of every table, with ids handed out in order."""

    def __init__(self):
        self.tables: dict[str, list[dict]] = {t.name: [] for t in TABLES}

    def add(self, table: str, **values) -> int:
        rows = self.tables[table]
        rows.append({"id": len(rows) + 1, **values})
        return len(rows)


def _customer(rows: Rows, person: people.Person, position: int, today: date) -> None:
    rng = people.person_rng("billing", person)
    joined = people.moment(rng, today, person.joined_days_ago, person.joined_days_ago)
    email = person.email.capitalize() if position % 5 == 4 else person.email
    phone = PHONE_FORMATS[position % len(PHONE_FORMATS)](person.phone[3:])
    customer_id = rows.add(
        "customers",
        customer_number=person.customer_number,
        name=person.name,
        email=email,
        phone=phone,
        billing_address=person.address,
        created_at=joined,
    )
    for _ in range(rng.randint(1, 2)):
        rows.add(
            "payment_methods",
            customer_id=customer_id,
            brand=rng.choice(BRANDS),
            last4=f"{rng.randint(0, 9999):04d}",
            expiry=f"{rng.randint(1, 12):02d}/{(today.year + rng.randint(1, 4)) % 100:02d}",
            created_at=joined,
        )
    _trips_and_invoices(rows, rng, person, customer_id, today)


def _trips_and_invoices(rows, rng: random.Random, person, customer_id: int, today: date) -> None:
    """Trips over the customer's time with us; an invoice per past month, and its payments."""
    months: dict[tuple[int, int], float] = {}
    starts = sorted(
        people.moment(rng, today, person.joined_days_ago) for _ in range(rng.randint(3, 14))
    )
    for start in starts:
        km, minutes = round(rng.uniform(1.5, 25.0), 1), rng.randint(8, 55)
        fare = round(2.0 + 1.35 * km + 0.25 * minutes, 2)
        rows.add(
            "trips",
            customer_id=customer_id,
            started_at=start,
            ended_at=start + timedelta(minutes=minutes),
            start_place=f"{rng.randint(1, 99)} {rng.choice(people.STREETS)}, {person.city}",
            end_place=f"{rng.randint(1, 99)} {rng.choice(people.STREETS)}, {person.city}",
            distance_km=km,
            fare_eur=fare,
        )
        months[start.year, start.month] = months.get((start.year, start.month), 0.0) + fare
    for (year, month), total in months.items():
        issued = datetime(year + month // 12, month % 12 + 1, 1, 6, 0)
        if issued.date() > today:
            continue  # this month is invoiced when it ends
        number = f"FA-{year}{month:02d}-{len(rows.tables['invoices']) + 1:06d}"
        invoice_id = rows.add(
            "invoices",
            customer_id=customer_id,
            number=number,
            issued_at=issued,
            total_eur=round(total, 2),
        )
        _payments(rows, rng, invoice_id, issued, round(total, 2))


def _payments(rows: Rows, rng: random.Random, invoice_id: int, issued: datetime, amount) -> None:
    """Usually one successful debit; now and then a failed one retried three days later."""
    paid = issued + timedelta(hours=rng.randint(1, 20))
    if rng.random() < 0.1:
        _payment(rows, rng, invoice_id, paid, amount, "failed")
        paid += timedelta(days=3)
    _payment(rows, rng, invoice_id, paid, amount, "succeeded")


def _payment(rows: Rows, rng: random.Random, invoice_id, paid, amount, status: str) -> None:
    reference = f"PAY-{rng.getrandbits(40):010X}"
    rows.add(
        "payments",
        invoice_id=invoice_id,
        paid_at=paid,
        amount_eur=amount,
        reference=reference,
        status=status,
    )


def build(today: date | None = None) -> dict[str, list[dict]]:
    """Every row of the billing file, by table."""
    today = today or datetime.now(UTC).date()
    rows = Rows()
    for position, person in enumerate(people.PEOPLE):
        if person.known_to("billing"):
            _customer(rows, person, position, today)
    return rows.tables


def seed(path: str | os.PathLike, today: date | None = None) -> dict[str, int]:
    """(Re)create the billing file at `path`; how many rows per table."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    tables = build(today)
    engine = create_engine(f"sqlite:///{partial}")
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            for table in TABLES:
                connection.execute(table.insert(), tables[table.name])
    except BaseException:
        engine.dispose()
        partial.unlink(missing_ok=True)
        raise
    engine.dispose()
    os.replace(partial, path)
    return {name: len(rows) for name, rows in tables.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.demo.billing",
        description="(Re)create the demo billing SQLite file.",
    )
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"default {DEFAULT_DB}")
    args = parser.parse_args(argv)
    try:
        counts = seed(args.db)
    except (OSError, SQLAlchemyError) as exc:
        parser.error(f"cannot write {args.db}: {getattr(exc, 'strerror', None) or exc}")
    listed = ", ".join(f"{count} {table}" for table, count in counts.items())
    print(f"billing: {listed} in {args.db}")


if __name__ == "__main__":
    main()
