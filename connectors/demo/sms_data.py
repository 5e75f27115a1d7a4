"""The demo SMS platform's data, in memory: contacts, messages and subscriptions.

An SMS platform knows a phone number and little else: every table is keyed by
the number in E.164. `subscriptions` is the promotions opt-in/opt-out list
(French law, CPCE art. L34-5: no promotional SMS without prior consent, and a
free way to stop them); objecting or withdrawing consent opts the number out,
and so does erasure: the number stays on the list as opted out, and nothing
else about it, so that promotions never reach it again if it comes back in a
later import (CNIL: an opposition list may be kept for that purpose).
"""

import random
from collections.abc import Iterable
from datetime import UTC, date, datetime

from connectors.demo import people
from connectors.demo.store import SeededStore, hold
from connectors.details import Field

#: every table and its columns; `restricted_at` marks a restricted number (and, on rows of
#: any table, those an erasure kept under a legal hold)
SCHEMA = {
    "contacts": ("phone", "first_name", "created_at", "restricted_at"),
    "messages": ("phone", "sent_at", "kind", "body", "delivery_status"),
    "subscriptions": ("phone", "promotions", "opted_in_at", "opted_out_at", "opt_out_source"),
}
TABLES = tuple(SCHEMA)

SERVICE = (
    "Mobilités Démo : votre code de vérification est {code}. Il expire dans 10 minutes.",
    "Mobilités Démo : trajet confirmé, prise en charge à {hour}h{minute:02d}.",
    "Mobilités Démo : votre véhicule est arrivé. Bon trajet !",
    "Mobilités Démo : merci pour ce trajet. Votre reçu est dans l'application.",
)
PROMOTIONS = (
    "Mobilités Démo : -20 % sur vos trajets ce week-end avec le code WEEKEND20. "
    "STOP : répondez STOP.",
    "Mobilités Démo : réservez désormais vos trajets à l'avance dans l'application. "
    "STOP : répondez STOP.",
)


def _subscription(rng: random.Random, phone: str, joined: datetime, today: date) -> dict:
    row = {
        "phone": phone,
        "promotions": "never_opted_in",
        "opted_in_at": None,
        "opted_out_at": None,
        "opt_out_source": None,
    }
    if rng.random() < 0.65:
        row.update(promotions="opted_in", opted_in_at=people.iso(joined))
        if rng.random() < 0.25:
            out = people.moment(rng, today, (today - joined.date()).days)
            row.update(promotions="opted_out", opted_out_at=people.iso(out), opt_out_source="STOP")
    return row


def _message(rng: random.Random, phone: str, sent: datetime, kind: str) -> dict:
    template = rng.choice(SERVICE if kind == "service" else PROMOTIONS)
    body = template.format(
        code=rng.randint(100000, 999999), hour=rng.randint(6, 22), minute=rng.randint(0, 59)
    )
    return {
        "phone": phone,
        "sent_at": people.iso(sent),
        "kind": kind,
        "body": body,
        "delivery_status": rng.choices(("delivered", "failed", "expired"), (92, 5, 3))[0],
    }


def _rows(person: people.Person, today: date) -> dict[str, list[dict]]:
    rng = people.person_rng("sms", person)
    joined = people.moment(rng, today, person.joined_days_ago, person.joined_days_ago)
    subscription = _subscription(rng, person.phone, joined, today)
    days = min(person.joined_days_ago, 365)
    messages = [
        _message(rng, person.phone, people.moment(rng, today, days), "service")
        for _ in range(rng.randint(2, 10))
    ]
    if subscription["opted_in_at"]:
        end = subscription["opted_out_at"] or people.iso(datetime.now(UTC))
        for _ in range(rng.randint(1, 4)):
            sent = people.moment(rng, today, days)
            if subscription["opted_in_at"] < people.iso(sent) < end:
                messages.append(_message(rng, person.phone, sent, "promotion"))
    contact = {
        "phone": person.phone,
        "first_name": person.first_name if rng.random() < 0.6 else None,
        "created_at": people.iso(joined),
        "restricted_at": None,
    }
    messages.sort(key=lambda m: m["sent_at"])
    return {"contacts": [contact], "messages": messages, "subscriptions": [subscription]}


class SmsStore(SeededStore):
    """Every table of the platform, looked up and changed by phone."""

    TABLES = TABLES

    def seed(self):
        for person in people.known_to("sms"):
            yield from _rows(person, self.today).items()

    def subscriptions(self, phones: Iterable[str] = ()) -> list[dict]:
        """The promotions opt-in list (copies): these numbers' rows, or every row."""
        phones = set(phones)
        with self._lock:
            rows = self.tables["subscriptions"]
            return [dict(row) for row in rows if not phones or row["phone"] in phones]

    def records(self, phones: Iterable[str]) -> dict[str, list[dict]]:
        """Every row about these numbers (copies), by table; {} if none."""
        phones = set(phones)
        with self._lock:
            found = {
                table: [dict(r) for r in rows if r["phone"] in phones]
                for table, rows in self.tables.items()
            }
        return found if any(found.values()) else {}

    def erase(self, phones: Iterable[str], keep: Iterable[Field], source: str) -> tuple:
        """Delete every row about these numbers except what `keep` holds (kept, marked
        restricted) and their subscription, reduced to an opt-out; (deleted, kept) row
        counts per table, and a line per number on the opt-out list."""
        phones, now, held = set(phones), people.iso(datetime.now(UTC)), {}
        for field in keep:
            held.setdefault(field.table, set()).add(field.column)
        deleted, kept = {}, {}
        with self._lock:
            for table, rows in self.tables.items():
                mine = [row for row in rows if row["phone"] in phones]
                if table in held:
                    for row in mine:
                        hold(row, SCHEMA[table], held[table], ("phone",), now)
                    kept[table] = len(mine)
                elif table != "subscriptions":
                    self.tables[table] = [row for row in rows if row["phone"] not in phones]
                    deleted[table] = len(mine)
            lines = self._suppress(phones, now, source, reduce="subscriptions" not in held)
        return deleted, kept, lines

    def _suppress(self, phones: set[str], now: str, source: str, reduce: bool) -> list[str]:
        """Opt these numbers out for good; with `reduce`, their rows keep nothing else."""
        lines = []
        for row in self.tables["subscriptions"]:
            if row["phone"] not in phones:
                continue
            if row["promotions"] == "opted_out":
                lines.append(f"{row['phone']} stays on the promotions opt-out list")
            else:
                row.update(promotions="opted_out", opted_out_at=now, opt_out_source=source)
                lines.append(f"{row['phone']} put on the promotions opt-out list")
            if reduce:
                row.update(opted_in_at=None)
        return lines

    def owner_key(self, table: str) -> str:
        return "phone"

    def opt_out(self, phones: Iterable[str], source: str) -> list[str]:
        """Stop promotions to these numbers; one line per number the platform knows."""
        phones, now, lines = set(phones), people.iso(datetime.now(UTC)), []
        with self._lock:
            for row in self.tables["subscriptions"]:
                if row["phone"] not in phones:
                    continue
                if row["promotions"] == "opted_out":
                    lines.append(f"{row['phone']} already opted out on {row['opted_out_at']}")
                    continue
                row.update(promotions="opted_out", opted_out_at=now, opt_out_source=source)
                lines.append(f"{row['phone']} opted out of promotions on {now}")
        return lines
