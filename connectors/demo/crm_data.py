"""The demo CRM's data, in memory: contacts, accounts, consents, tickets and login events.

Built from `people` for everyone the CRM knows, a few rows each, the same on
every start. Table names are those the processing register of the demo
instance names (`crm.contacts`, `crm.consents`, ...). Phones are stored the
way this CRM displays them (`+33 6 39 98 00 01`); lookups compare E.164.
"""

import itertools
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from connectors.demo import people
from connectors.demo.store import SeededStore, hold
from connectors.details import Field
from connectors.matching import (
    Subject,
    normalise_customer_number,
    normalise_email,
    normalise_phone,
)

#: every table and its columns; `restricted_at` marks a restricted contact (and, on rows of
#: any table, those an erasure kept under a legal hold)
SCHEMA = {
    "contacts": (
        "id",
        "customer_number",
        "first_name",
        "last_name",
        "email",
        "phone",
        "postal_address",
        "created_at",
        "restricted_at",
    ),
    "accounts": (
        "id",
        "contact_id",
        "customer_number",
        "status",
        "language",
        "signed_up_at",
        "last_login_at",
    ),
    "consents": ("id", "contact_id", "purpose", "channel", "status", "recorded_at", "source"),
    "tickets": (
        "id",
        "contact_id",
        "opened_at",
        "closed_at",
        "channel",
        "subject",
        "message",
        "status",
    ),
    "login_events": ("id", "contact_id", "at", "ip_address", "device", "result"),
}
TABLES = tuple(SCHEMA)

TICKETS = (
    ("Trajet facturé deux fois", "Mon trajet d'hier apparaît deux fois sur mon relevé."),
    ("Objet oublié dans le véhicule", "J'ai oublié mon écharpe grise lors de mon dernier trajet."),
    ("Changer mon adresse de facturation", "Je déménage : merci de mettre à jour mon adresse."),
    ("Application bloquée au paiement", "L'application reste bloquée à l'étape du paiement."),
    ("Retard du véhicule", "Le véhicule est arrivé avec vingt minutes de retard."),
)
DEVICES = (
    "iPhone 14, iOS 17.5",
    "Pixel 7, Android 14",
    "Galaxy S22, Android 13",
    "Firefox 128, Windows 11",
    "Safari 17, macOS 14",
)
#: documentation address blocks (RFC 5737, RFC 3849): no real client is named
NETWORKS = ("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8::")


def display_phone(e164: str) -> str:
    """`+33639980001` -> `+33 6 39 98 00 01`."""
    digits = e164[3:]
    return "+33 " + digits[0] + " " + " ".join(digits[i : i + 2] for i in range(1, 9, 2))


def _rows(person: people.Person, contact_id: int, today: date, ids) -> dict[str, list[dict]]:
    rng = people.person_rng("crm", person)
    joined = datetime.combine(today - timedelta(days=person.joined_days_ago), time(9, 30))
    since = person.joined_days_ago
    logins = sorted(people.moment(rng, today, min(since, 365)) for _ in range(rng.randint(2, 8)))
    return {
        "contacts": [
            {
                "id": contact_id,
                "customer_number": person.customer_number,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": person.email,
                "phone": display_phone(person.phone),
                "postal_address": person.address,
                "created_at": people.iso(joined),
                "restricted_at": None,
            }
        ],
        "accounts": [
            {
                "id": contact_id,
                "contact_id": contact_id,
                "customer_number": person.customer_number,
                "status": rng.choices(("active", "suspended", "closed"), (90, 4, 6))[0],
                "language": rng.choices(("fr", "en"), (85, 15))[0],
                "signed_up_at": people.iso(joined),
                "last_login_at": people.iso(logins[-1]),
            }
        ],
        "consents": _consents(rng, contact_id, joined, today, since, ids),
        "tickets": [
            _ticket(rng, contact_id, today, since, next(ids))
            for _ in range(rng.choice((0, 1, 1, 2, 3)))
        ],
        "login_events": [
            {
                "id": next(ids),
                "contact_id": contact_id,
                "at": people.iso(at),
                "ip_address": rng.choice(NETWORKS) + str(rng.randint(1, 254)),
                "device": rng.choice(DEVICES),
                "result": rng.choices(("success", "wrong_password"), (9, 1))[0],
            }
            for at in logins
        ],
    }


def _consents(rng: random.Random, contact_id, joined, today, since, ids) -> list[dict]:
    """The newsletter consent given or refused at sign-up, sometimes withdrawn later."""
    granted = rng.random() < 0.7
    rows = [
        {
            "id": next(ids),
            "contact_id": contact_id,
            "purpose": "email_newsletter",
            "channel": "email",
            "status": "granted" if granted else "refused",
            "recorded_at": people.iso(joined),
            "source": "sign-up form in the app",
        }
    ]
    if granted and rng.random() < 0.3:
        withdrawn = people.moment(rng, today, since)
        rows.append(
            {
                **rows[0],
                "id": next(ids),
                "status": "withdrawn",
                "recorded_at": people.iso(withdrawn),
                "source": "unsubscribe link in an email",
            }
        )
    return rows


def _ticket(rng: random.Random, contact_id, today, since, ticket_id) -> dict:
    subject, message = rng.choice(TICKETS)
    opened = people.moment(rng, today, since)
    closed = opened + timedelta(hours=rng.randint(2, 72))
    is_open = closed.date() >= today
    return {
        "id": ticket_id,
        "contact_id": contact_id,
        "opened_at": people.iso(opened),
        "closed_at": None if is_open else people.iso(closed),
        "channel": rng.choice(("email", "chat", "phone")),
        "subject": subject,
        "message": message,
        "status": "open" if is_open else "closed",
    }


class CrmStore(SeededStore):
    """Every CRM table, with lookups by identifier and the changes the DSR actions make."""

    TABLES = TABLES

    def seed(self):
        ids = itertools.count(1)
        for contact_id, person in enumerate(people.known_to("crm"), start=1):
            yield from _rows(person, contact_id, self.today, ids).items()

    def find(
        self,
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        customer_numbers: Iterable[str] = (),
    ) -> list[int]:
        """Ids of the contacts matching any of the normalised identifiers given."""
        emails, phones, numbers = set(emails), set(phones), set(customer_numbers)
        with self._lock:
            return [
                c["id"] for c in self.tables["contacts"] if _matches(c, emails, phones, numbers)
            ]

    def find_subject(self, subject: Subject) -> list[int]:
        return self.find(
            subject.values("email"), subject.values("phone"), subject.values("customer_number")
        )

    def rows(self, table: str, contact_ids: Iterable[int]) -> list[dict]:
        """A table's rows about these contacts (copies)."""
        ids, key = set(contact_ids), _contact_key(table)
        with self._lock:
            return [dict(row) for row in self.tables[table] if row[key] in ids]

    def records(self, contact_ids: list[int]) -> dict[str, list[dict]]:
        return {table: self.rows(table, contact_ids) for table in TABLES}

    def erase(self, contact_ids: list[int], keep: Iterable[Field] = ()) -> tuple[dict, dict]:
        """Delete every row about these contacts except what `keep` holds, which stays
        (reduced to its kept columns when columns are named) with `restricted_at` set;
        (deleted, kept) row counts per table."""
        ids, now, held = set(contact_ids), people.iso(datetime.now(UTC)), {}
        for field in keep:
            held.setdefault(field.table, set()).add(field.column)
        deleted, kept = {}, {}
        with self._lock:
            for table, rows in self.tables.items():
                key = _contact_key(table)
                mine = [row for row in rows if row[key] in ids]
                if table in held:
                    for row in mine:
                        hold(row, SCHEMA[table], held[table], ("id", "contact_id"), now)
                    kept[table] = len(mine)
                else:
                    self.tables[table] = [row for row in rows if row[key] not in ids]
                    deleted[table] = len(mine)
        return deleted, kept

    def owner_key(self, table: str) -> str:
        return _contact_key(table)

    def record_consent(self, contact_ids, purpose: str, status: str, source: str, skip) -> list:
        """Add a `status` row for `purpose` to each contact's consent log, unless the
        latest row's status (None when there is none) is in `skip`; [(latest row or
        None, the row added or None)] per contact."""
        now, done = people.iso(datetime.now(UTC)), []
        with self._lock:
            log = self.tables["consents"]
            for contact_id in contact_ids:
                rows = [r for r in log if r["contact_id"] == contact_id and r["purpose"] == purpose]
                latest = max(rows, key=lambda r: (r["recorded_at"], r["id"]), default=None)
                if (latest and latest["status"]) in skip:
                    done.append((latest, None))
                    continue
                added = {
                    "id": max((r["id"] for r in log), default=0) + 1,
                    "contact_id": contact_id,
                    "purpose": purpose,
                    "channel": latest["channel"] if latest else None,
                    "status": status,
                    "recorded_at": now,
                    "source": source,
                }
                log.append(added)
                done.append((latest, dict(added)))
        return done


def _matches(contact: dict, emails: set, phones: set, numbers: set) -> bool:
    """Whether a contact holds one of the identifiers (an erasure may have emptied some)."""
    email, phone, number = contact["email"], contact["phone"], contact["customer_number"]
    return bool(
        (email and normalise_email(email) in emails)
        or (phone and normalise_phone(phone) in phones)
        or (number and normalise_customer_number(number) in numbers)
    )


def _contact_key(table: str) -> str:
    """The column naming the contact a row is about."""
    return "id" if table == "contacts" else "contact_id"
