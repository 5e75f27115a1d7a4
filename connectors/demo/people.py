"""The fictitious people the demo systems know: the same 300 every time, and a few named ones.

Everything is invented and cannot reach anyone: email addresses use the domains
reserved for examples (RFC 2606), mobile numbers are in 06 39 98 xx xx, a block
ARCEP keeps for fiction (room for 10,000 numbers), streets do not exist. A
`random.Random` with a fixed seed draws them, so the CRM, the SMS platform and
the billing file, each built in its own process, agree on who is who.

Dates are not stored here: a person carries how many days ago they joined, and
each system dates its records back from today, so the demo never looks stale.

`SHOWCASE` holds the people the README and the tests name; they come first and
keep the numbers 0001 to 0004. `NOBODY` is an address no system knows.
"""

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

SEED = 20251048  # chosen so that the showcase people make a good demo
COUNT = 300
SYSTEMS = ("crm", "billing", "sms")
#: the 06 39 98 xx xx block ARCEP reserves for fiction, in E.164
PHONE_PREFIX = "+3363998"
DOMAINS = ("example.org", "example.net", "example.com")
#: the share of generated people known to all three systems
ALL_THREE = 0.6

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Jade", "Louise", "Alice",
    "Juliette", "Lina", "Zoé", "Clara", "Anaïs", "Élodie", "Margaux", "Pauline", "Mathilde",
    "Céline", "Nathalie", "Sophie", "Isabelle", "Aurélie", "Hugo", "Lucas", "Léo", "Gabriel",
    "Louis", "Arthur", "Jules", "Nathan", "Thomas", "Théo", "Maxime", "Antoine", "Nicolas",
    "Julien", "Romain", "Mathieu", "Baptiste", "Quentin", "Yanis", "Karim", "Mehdi",
    "Jean-Baptiste", "Marie-Claire", "Bruno", "Olivier", "Sylvie",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
    "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson",
    "Benali", "Nguyen", "Haddad", "Da Silva",
)  # fmt: skip
#: invented street names, so that no address is anybody's
STREETS = (
    "rue des Maquettes", "rue de l'Exemple", "avenue des Prototypes", "allée du Brouillon",
    "impasse des Esquisses", "boulevard de la Fable", "place des Chimères",
    "chemin du Faux-Semblant", "rue du Songe-Creux", "quai des Hypothèses",
    "rue de la Page-Blanche", "avenue du Simulacre", "allée des Figurants",
    "rue des Trois-Scénarios", "cours de l'Imaginaire", "passage des Maquettistes",
)  # fmt: skip
CITIES = (
    ("69002", "Lyon"), ("69003", "Lyon"), ("69007", "Lyon"), ("75011", "Paris"),
    ("75015", "Paris"), ("75018", "Paris"), ("13001", "Marseille"), ("13008", "Marseille"),
    ("31000", "Toulouse"), ("33000", "Bordeaux"), ("44000", "Nantes"), ("59000", "Lille"),
    ("67000", "Strasbourg"), ("35000", "Rennes"), ("38000", "Grenoble"),
    ("34000", "Montpellier"),
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """One fictitious person, with the identifiers the systems store."""

    customer_number: str
    first_name: str
    last_name: str
    email: str
    #: E.164; systems store it in their own formats
    phone: str
    street: str
    postcode: str
    city: str
    #: the systems that hold data about this person
    systems: frozenset[str]
    #: how many days before today the person became a customer
    joined_days_ago: int

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"

    def known_to(self, system: str) -> bool:
        return system in self.systems


def _showcase(number: int, first: str, last: str, email: str, systems, days: int) -> Person:
    return Person(
        customer_number=f"MD-{number:06d}",
        first_name=first,
        last_name=last,
        email=email,
        phone=f"{PHONE_PREFIX}{number:04d}",
        street=f"{number * 7} {STREETS[number - 1]}",
        postcode=CITIES[number - 1][0],
        city=CITIES[number - 1][1],
        systems=frozenset(systems),
        joined_days_ago=days,
    )


#: the people the README walks through, by role
SHOWCASE = {
    "everywhere": _showcase(1, "Camille", "Durand", "camille.durand@example.org", SYSTEMS, 700),
    "crm_only": _showcase(2, "Hugo", "Lefèvre", "hugo.lefevre@example.net", {"crm"}, 45),
    "billing_only": _showcase(3, "Inès", "Moreau", "ines.moreau@example.com", {"billing"}, 400),
    # Léo gave the SMS platform his number only: he must give it to be found.
    "sms_only": _showcase(4, "Léo", "Garnier", "leo.garnier@example.org", {"sms"}, 200),
}
#: an address none of the three systems knows
NOBODY = "personne.inconnue@example.org"


def _ascii(text: str) -> str:
    """`Lefèvre` -> `lefevre`, `Da Silva` -> `dasilva`, for email local parts."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "")


def _systems(rng: random.Random) -> frozenset[str]:
    if rng.random() < ALL_THREE:
        return frozenset(SYSTEMS)
    some = [{s} for s in SYSTEMS] + [set(SYSTEMS) - {s} for s in SYSTEMS]
    return frozenset(rng.choice(some))


def _email(rng: random.Random, first: str, last: str, taken: set[str]) -> str:
    local, domain = f"{_ascii(first)}.{_ascii(last)}", rng.choice(DOMAINS)
    email, n = f"{local}@{domain}", 1
    while email in taken:
        n += 1
        email = f"{local}{n}@{domain}"
    taken.add(email)
    return email


def _generate() -> tuple[Person, ...]:
    rng = random.Random(SEED)
    # Showcase people hold numbers 1 to 4; generated ones start at 100.
    phones = rng.sample(range(100, 10_000), COUNT)
    numbers = rng.sample(range(100, 100_000), COUNT)
    taken = {p.email for p in SHOWCASE.values()} | {NOBODY}
    people = list(SHOWCASE.values())
    for phone, number in zip(phones, numbers, strict=True):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        postcode, city = rng.choice(CITIES)
        people.append(
            Person(
                customer_number=f"MD-{number:06d}",
                first_name=first,
                last_name=last,
                email=_email(rng, first, last, taken),
                phone=f"{PHONE_PREFIX}{phone:04d}",
                street=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                postcode=postcode,
                city=city,
                systems=_systems(rng),
                joined_days_ago=rng.randint(30, 730),
            )
        )
    return tuple(people)


#: the showcase people first, then the generated ones; the same on every run
PEOPLE: tuple[Person, ...] = _generate()


def known_to(system: str) -> list[Person]:
    """The people one system holds data about, showcase first."""
    return [p for p in PEOPLE if system in p.systems]


def person_rng(system: str, person: Person) -> random.Random:
    """A generator for one system's records about one person: the same on every run,
    and independent of everyone else's, so adding a person changes no one else's data."""
    return random.Random(f"{SEED}/{system}/{person.customer_number}")


def moment(rng: random.Random, today: date, oldest: int, newest: int = 1) -> datetime:
    """A time of day between `oldest` and `newest` days before `today` (naive UTC)."""
    day = today - timedelta(days=rng.randint(newest, max(newest, oldest)))
    return datetime.combine(day, time(rng.randint(6, 22), rng.randint(0, 59), rng.randint(0, 59)))


def iso(value: datetime | None) -> str | None:
    """How the HTTP demo systems write times: ISO 8601 in UTC."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
