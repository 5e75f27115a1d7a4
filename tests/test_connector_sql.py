"""The sql kind against a real SQLite file shaped like the demo billing database."""

import base64
import datetime
import json
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from connectors import registry
from connectors.base import ConnectorConfigError, ConnectorError, TaskOrder
from connectors.matching import Subject

metadata = sa.MetaData()
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_number", sa.String(20), nullable=False, unique=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("email", sa.String, nullable=False),
    sa.Column("phone", sa.String),
    sa.Column("billing_address", sa.String),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("password_hash", sa.String),
    sa.Column("restricted_at", sa.DateTime),
)
trips = sa.Table(
    "trips",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("start_place", sa.String),
    sa.Column("fare_eur", sa.Numeric(10, 2)),
)
payment_methods = sa.Table(
    "payment_methods",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("brand", sa.String),
    sa.Column("last4", sa.String),
)
invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("number", sa.String, nullable=False),
    sa.Column("issued_at", sa.Date, nullable=False),
    sa.Column("memo", sa.Text),
    sa.Column("restricted_at", sa.DateTime),
)
payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("invoice_id", sa.ForeignKey("invoices.id"), nullable=False),
    sa.Column("amount_eur", sa.Numeric(10, 2)),
    sa.Column("receipt", sa.LargeBinary),
)

CREATED = datetime.datetime(2024, 3, 1, 9, 30)
PEOPLE = [
    # Alice's phone is in national format; Bob's international; Carol's is Belgian
    # with the same last 8 digits as Alice's, so only the exact comparison tells them apart
    (1, "MD-000123", "Alice Martin", "Alice.Martin@Example.FR", "06 12 34 56 78", "1 rue A, Lyon"),
    (2, "MD-000124", "Bob Durand", "bob@example.fr", "+33 7 98 76 54 32", "2 rue B, Paris"),
    (3, "MD-000125", "Carol Peeters", "carol@example.be", "+32 412 34 56 78", None),
]


def seed(engine) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        for id_, number, name, email, phone, address in PEOPLE:
            conn.execute(
                customers.insert().values(
                    id=id_,
                    customer_number=number,
                    name=name,
                    email=email,
                    phone=phone,
                    billing_address=address,
                    created_at=CREATED,
                    password_hash="argon2$x",
                )
            )
        # Alice (1): 3 trips, 1 card, 2 invoices with 3 payments; Bob (2): 1 of each
        trip_owners = [1, 1, 1, 2]
        for id_, owner in enumerate(trip_owners, 1):
            conn.execute(
                trips.insert().values(
                    id=id_,
                    customer_id=owner,
                    started_at=CREATED,
                    start_place=f"place {id_}",
                    fare_eur=Decimal("12.50"),
                )
            )
        conn.execute(
            payment_methods.insert(),
            [
                {"id": 1, "customer_id": 1, "brand": "visa", "last4": "4242"},
                {"id": 2, "customer_id": 2, "brand": "mc", "last4": "5555"},
            ],
        )
        conn.execute(
            invoices.insert(),
            [
                {
                    "id": i,
                    "customer_id": c,
                    "number": f"F-{i}",
                    "issued_at": CREATED.date(),
                    "memo": m,
                }
                for i, c, m in [(1, 1, "called about a refund"), (2, 1, None), (3, 2, "ok")]
            ],
        )
        conn.execute(
            payments.insert(),
            [
                {
                    "id": p,
                    "invoice_id": i,
                    "amount_eur": Decimal("37.50"),
                    "receipt": b"\x00\x01PDF",
                }
                for p, i in [(1, 1), (2, 1), (3, 2), (4, 3)]
            ],
        )


TABLES = {
    "customers": {
        "key": "id",
        "match": {"email": "email", "phone": "phone", "customer_number": "customer_number"},
        "erase": "anonymise",
        "columns": {"name": "retain", "billing_address": "retain"},
        "exclude": ["password_hash"],
    },
    "trips": {"parent": "customers", "foreign_key": "customer_id", "erase": "delete"},
    "payment_methods": {"parent": "customers", "foreign_key": "customer_id"},
    "invoices": {
        "parent": "customers",
        "foreign_key": "customer_id",
        "erase": "retain",
        "columns": {"memo": "anonymise"},
    },
    "payments": {"parent": "invoices", "foreign_key": "invoice_id", "erase": "retain"},
}


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'billing.sqlite3'}"
    engine = sa.create_engine(url)
    seed(engine)
    engine.dispose()
    return url


@pytest.fixture
def make_billing(db_url):
    built = []

    def make(tables=TABLES, **settings):
        environ = {"DSR_BILLING_URL": db_url}
        settings = {"kind": "sql", "url_env": "DSR_BILLING_URL", "tables": tables, **settings}
        connector = registry.build("billing", settings, environ)
        built.append(connector)
        return connector

    yield make
    for connector in built:
        connector.close()


@pytest.fixture
def billing(make_billing):
    return make_billing()


class ListSink:
    def __init__(self):
        self.records = []

    def write(self, table, record):
        self.records.append((table, dict(record)))

    def ids(self, table):
        return [r["id"] for t, r in self.records if t == table]


def order(action, email="nobody@example.fr", **identifiers) -> TaskOrder:
    return TaskOrder("t-1", "DSR-2025-000001", action, Subject.from_request(email, "", identifiers))


def access(connector, **kwargs):
    sink = ListSink()
    result = connector.run(order("access", **kwargs), sink)
    return result, sink


def rows(db_url, table):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(table.c.id))]
    finally:
        engine.dispose()


def test_access_by_email_finds_every_table_through_its_parent_chain(billing):
    result, sink = access(billing, email="alice.martin@example.fr")
    assert result.outcome == "found 1 customer, 3 trips, 1 payment_method, 2 invoices, 3 payments"
    assert sink.ids("customers") == [1]
    assert sink.ids("trips") == [1, 2, 3]
    assert sink.ids("payment_methods") == [1]
    assert sink.ids("invoices") == [1, 2]
    assert sink.ids("payments") == [1, 2, 3]  # two levels down: payments -> invoices -> customers
    assert [t for t, _ in sink.records][:2] == ["customers", "trips"]  # parents first


def test_access_writes_json_safe_values_without_excluded_columns(billing):
    _, sink = access(billing, email="alice.martin@example.fr")
    records = dict(sink.records[:1])
    customer = records["customers"]
    assert "password_hash" not in customer
    assert customer["created_at"] == "2024-03-01T09:30:00"
    trip = next(r for t, r in sink.records if t == "trips")
    assert trip["fare_eur"] == "12.50"
    invoice = next(r for t, r in sink.records if t == "invoices")
    assert invoice["issued_at"] == "2024-03-01"
    payment = next(r for t, r in sink.records if t == "payments")
    assert base64.b64decode(payment["receipt"]) == b"\x00\x01PDF"
    json.dumps(sink.records)  # everything can go into data.json as it is


@pytest.mark.parametrize(
    "given, expected",
    [
        ("+33612345678", 1),  # E.164 given, national format stored
        ("06.12.34.56.78", 1),
        ("07 98 76 54 32", 2),  # national format given, international stored
        ("+32 412 34 56 78", 3),  # same last 8 digits as Alice: told apart exactly
    ],
)
def test_access_by_phone_compares_normalised_numbers(billing, given, expected):
    _, sink = access(billing, phone=given)
    assert sink.ids("customers") == [expected]


def test_access_by_customer_number_is_normalised(billing):
    result, sink = access(billing, customer_number=" md-000124 ")
    assert sink.ids("customers") == [2]
    assert result.outcome == "found 1 customer, 1 trip, 1 payment_method, 1 invoice, 1 payment"


def test_several_identifiers_of_one_person_find_her_once(billing):
    _, sink = access(billing, email="ALICE.MARTIN@example.fr", phone="0612345678")
    assert sink.ids("customers") == [1]
    assert sink.ids("trips") == [1, 2, 3]


def test_nobody_found_is_no_data(billing):
    result, sink = access(billing, email="nobody@example.fr", phone="+33 1 00 00 00 00")
    assert result.outcome == "no data"
    assert sink.records == []


def test_match_on_limits_the_identifiers_used(make_billing):
    billing = make_billing(match_on=["email"])
    result, sink = access(billing, phone="06 12 34 56 78")
    assert result.outcome == "no data"


def test_erase_applies_each_strategy_with_column_overrides(billing, db_url):
    result = billing.run(order("erase", email="alice.martin@example.fr"), ListSink())
    assert result.outcome == (
        "anonymised 1 customer (kept name, billing_address); deleted 3 trips; "
        "deleted 1 payment_method; retained 2 invoices (anonymised memo); retained 3 payments"
    )
    alice, bob, _ = rows(db_url, customers)
    assert alice["name"] == "Alice Martin" and alice["billing_address"] == "1 rue A, Lyon"
    # NOT NULL columns get a neutral value, unique for text; nullable ones become NULL
    assert alice["email"] == alice["customer_number"] == "anonymised-1"
    assert alice["created_at"] == datetime.datetime(1970, 1, 1)
    assert alice["phone"] is None and alice["password_hash"] is None
    assert bob["email"] == "bob@example.fr"
    assert [t["customer_id"] for t in rows(db_url, trips)] == [2]
    assert [p["customer_id"] for p in rows(db_url, payment_methods)] == [2]
    assert [(i["id"], i["memo"]) for i in rows(db_url, invoices)] == [
        (1, None),
        (2, None),
        (3, "ok"),
    ]
    assert len(rows(db_url, payments)) == 4
    # she can no longer be found; a second erasure finds nothing to do
    assert access(billing, email="alice.martin@example.fr")[0].outcome == "no data"
    assert billing.run(order("erase", phone="0612345678"), ListSink()).outcome == "no data"


def test_erase_deletes_children_before_parents(make_billing, db_url):
    tables = {name: {**spec, "erase": "delete"} for name, spec in TABLES.items()}
    for spec in tables.values():
        spec.pop("columns", None)
    billing = make_billing(tables)
    # with foreign keys enforced, deleting a parent first would fail
    sa.event.listen(
        billing.engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON")
    )
    result = billing.run(order("erase", customer_number="MD-000124"), ListSink())
    assert result.outcome == (
        "deleted 1 customer; deleted 1 trip; deleted 1 payment_method; deleted 1 invoice; "
        "deleted 1 payment"
    )
    assert [c["id"] for c in rows(db_url, customers)] == [1, 3]
    assert [p["id"] for p in rows(db_url, payments)] == [1, 2, 3]


def test_erase_is_one_transaction(billing, db_url):
    # a NOT NULL column of a type with no neutral value makes the customers step fail,
    # after the trips (children, first) were already deleted in the same transaction
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE customers ADD COLUMN prefs JSON NOT NULL DEFAULT '{}'")
    engine.dispose()
    with pytest.raises(ConnectorError, match=re.escape("cannot anonymise customers.prefs")):
        billing.run(order("erase", email="alice.martin@example.fr"), ListSink())
    assert len(rows(db_url, trips)) == 4
    assert rows(db_url, customers)[0]["email"] == "Alice.Martin@Example.FR"


@pytest.mark.parametrize(
    "tables, message",
    [
        (
            {**TABLES, "refunds": {"parent": "payments", "foreign_key": "payment_id"}},
            "table 'refunds' does not exist",
        ),
        (
            {**TABLES, "trips": {**TABLES["trips"], "exclude": ["gps_trace"]}},
            "table 'trips' has no column 'gps_trace'",
        ),
        (
            {**TABLES, "customers": {**TABLES["customers"], "match": {"email": "mail"}}},
            "table 'customers' has no column 'mail'",
        ),
    ],
)
def test_the_mapping_is_checked_against_the_live_schema(make_billing, tables, message):
    billing = make_billing(tables)
    with pytest.raises(ConnectorError, match=re.escape(f"billing: {message}")):
        access(billing, email="alice.martin@example.fr")


def test_an_unreachable_database_is_a_connector_error(tmp_path):
    billing = registry.build(
        "billing",
        {"kind": "sql", "url": f"sqlite:///{tmp_path}/no/such/dir/x.db", "tables": TABLES},
        {},
    )
    with pytest.raises(
        ConnectorError, match="billing: database error at sqlite:[^ ]*: unable to open database"
    ):
        access(billing, email="alice.martin@example.fr")
    billing.close()


def child(**spec):
    return {
        "customers": TABLES["customers"],
        "child": {"parent": "customers", "foreign_key": "customer_id", **spec},
    }


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"tables": {}}, "tables must be a non-empty table"),
        ({"tables": {"t": {"key": "id"}}}, "tables.t needs either match"),
        (
            {"tables": {"t": {"match": {"email": "e"}, "parent": "t"}}},
            "tables.t needs either match",
        ),
        (
            {"tables": {"t": {"match": {"iban": "iban"}}}},
            "tables.t: match: unknown identifier 'iban'",
        ),
        ({"tables": {"t": {"match": {}}}}, "tables.t: match must map identifiers to columns"),
        (
            {"tables": {"t": {"match": {"email": "e"}, "erase": "shred"}}},
            "tables.t: unknown erase strategy 'shred'",
        ),
        (
            {"tables": {"t": {"match": {"email": "e"}, "tags": []}}},
            "tables.t: unknown setting 'tags'",
        ),
        ({"tables": child(parent="orders")}, "tables.child: parent 'orders' is not declared"),
        (
            {"tables": {"customers": TABLES["customers"], "child": {"parent": "customers"}}},
            "tables.child: foreign_key is required with parent",
        ),
        (
            {
                "tables": {
                    "a": {"parent": "b", "foreign_key": "b_id"},
                    "b": {"parent": "a", "foreign_key": "a_id"},
                }
            },
            "tables form a cycle: a -> b -> a",
        ),
        (
            {"tables": child(erase="retain") | {"customers": {"match": {"email": "email"}}}},
            "tables.customers: erase = 'delete' would leave the child rows",
        ),
        ({"tables": child(columns={"memo": "retain"})}, "tables.child: columns only apply"),
        (
            {"tables": child(erase="retain", columns={"memo": "hash"})},
            "tables.child: columns.memo: unknown strategy 'hash'",
        ),
        (
            {"tables": child(erase="retain", columns={"customer_id": "anonymise"})},
            "tables.child: columns.customer_id: keys and foreign keys are never anonymised",
        ),
        ({"tables": child(exclude="memo")}, "tables.child: exclude must be a list"),
        (
            {"tables": child(erase="retain", restrict_column="customer_id")},
            "tables.child: restrict_column 'customer_id' must be a column of its own",
        ),
        (
            {"tables": child(erase="retain", restrict_column="")},
            "tables.child: restrict_column must be a name",
        ),
        (
            {"actions": ["access", "restrict"]},
            "action 'restrict' needs restrict_column on a table",
        ),
        ({"region": "France"}, "region must be a country code"),
        ({"url_env": None, "url": "nosuchdb://x"}, "url is not a usable SQLAlchemy URL"),
        ({"url_env": None, "url": "not a url"}, "url is not a usable SQLAlchemy URL"),
    ],
)
def test_bad_mappings_are_refused_when_built(settings, message):
    base = {"kind": "sql", "url_env": "DSR_BILLING_URL", "tables": TABLES}
    merged = {k: v for k, v in {**base, **settings}.items() if v is not None}
    with pytest.raises(ConnectorConfigError, match=re.escape(f"connectors.billing: {message}")):
        registry.build("billing", merged, {"DSR_BILLING_URL": "sqlite://"})


# --- legal holds, rectification, restriction --------------------------------------

#: the test mapping with the restriction mark on customers and invoices
MARKED = {
    **TABLES,
    "customers": {**TABLES["customers"], "restrict_column": "restricted_at"},
    "invoices": {**TABLES["invoices"], "restrict_column": "restricted_at"},
}


def task(action, details, email="alice.martin@example.fr") -> TaskOrder:
    subject = Subject.from_request(email, "", {})
    return TaskOrder("t-1", "DSR-2025-000001", action, subject, details)


def marks(db_url, table) -> dict[int, datetime.datetime | None]:
    return {row["id"]: row["restricted_at"] for row in rows(db_url, table)}


def test_erase_keeps_what_the_legal_hold_names_and_marks_it_restricted(make_billing, db_url):
    billing = make_billing(MARKED)
    before = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    result = billing.run(task("erase", {"keep": ["trips", "customers.email"]}), ListSink())
    assert result.outcome == (
        "anonymised 1 customer (kept name, billing_address, email; restricted); "
        "retained 3 trips; deleted 1 payment_method; "
        "retained 2 invoices (anonymised memo; restricted); retained 3 payments"
    )
    alice, bob, _ = rows(db_url, customers)
    assert alice["email"] == "Alice.Martin@Example.FR" and alice["phone"] is None
    assert alice["restricted_at"] >= before.replace(microsecond=0) and bob["restricted_at"] is None
    assert [t["start_place"] for t in rows(db_url, trips)] == [f"place {i}" for i in (1, 2, 3, 4)]
    assert [p["customer_id"] for p in rows(db_url, payment_methods)] == [2]
    invoice_marks = marks(db_url, invoices)
    assert invoice_marks[1] == invoice_marks[2] == alice["restricted_at"]
    assert invoice_marks[3] is None


def test_a_kept_column_keeps_its_rows_and_their_parents(make_billing, db_url):
    tables = {name: {**spec, "erase": "delete"} for name, spec in TABLES.items()}
    for spec in tables.values():
        spec.pop("columns", None)
    billing = make_billing(tables)
    sa.event.listen(
        billing.engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON")
    )
    result = billing.run(task("erase", {"keep": ["payments.amount_eur"]}), ListSink())
    assert result.outcome == (
        "anonymised 1 customer; deleted 3 trips; deleted 1 payment_method; "
        "anonymised 2 invoices; anonymised 3 payments (kept amount_eur)"
    )
    kept = [p for p in rows(db_url, payments) if p["invoice_id"] in (1, 2)]
    assert [(p["amount_eur"], p["receipt"]) for p in kept] == [(Decimal("37.50"), None)] * 3
    alice = rows(db_url, customers)[0]
    assert alice["email"] == "anonymised-1" and alice["name"] == "anonymised-1"


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"keep": ["invoices.total"]}, "cannot keep invoices.total (legal hold): table"),
        ({"keep": "invoices"}, "details.keep must be a list"),
        ({"keep": ["a.b.c"]}, "a field is 'table' or 'table.column'"),
    ],
)
def test_an_erasure_that_cannot_honour_the_hold_changes_nothing(billing, db_url, details, message):
    with pytest.raises(ConnectorError, match=re.escape(message)):
        billing.run(task("erase", details), ListSink())
    assert len(rows(db_url, trips)) == 4
    assert rows(db_url, customers)[0]["email"] == "Alice.Martin@Example.FR"


def test_erasing_twice_does_no_harm(make_billing, db_url):
    billing = make_billing(MARKED)
    billing.run(task("erase", {"keep": ["invoices"]}), ListSink())
    first = {t.name: rows(db_url, t) for t in metadata.sorted_tables}
    assert billing.run(task("erase", {"keep": ["invoices"]}), ListSink()).outcome == "no data"
    # found again through its placeholder, the anonymised row is left as it was
    again = billing.run(task("erase", {"keep": ["invoices"]}, email="anonymised-1"), ListSink())
    assert again.outcome.startswith(
        "anonymised 1 customer (kept name, billing_address; restricted)"
    )
    assert {t.name: rows(db_url, t) for t in metadata.sorted_tables} == first


def test_rectify_sets_the_new_value_on_the_person_rows_only(billing, db_url):
    change = {"field": "customers.billing_address", "old": "1 rue A, Lyon", "new": "9 rue Z"}
    details = {"changes": [change, {"field": "trips.start_place", "new": "Gare"}]}
    for _ in range(2):  # the same rectification twice changes nothing more
        result = billing.run(task("rectify", details), ListSink())
        assert result.outcome == (
            "changed customers.billing_address on 1 customer; trips.start_place on 3 trips"
        )
    assert [c["billing_address"] for c in rows(db_url, customers)] == [
        "9 rue Z",
        "2 rue B, Paris",
        None,
    ]
    assert [t["start_place"] for t in rows(db_url, trips)] == ["Gare"] * 3 + ["place 4"]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("customers.nickname", "billing has no field 'customers.nickname'"),
        ("refunds.amount", "billing has no field 'refunds.amount'"),
        ("trips.customer_id", "billing: trips.customer_id is a key or a mark"),
        ("customers", "details.changes.1: customers names no column"),
    ],
)
def test_rectify_of_a_field_the_system_lacks_fails_and_changes_nothing(
    billing, db_url, field, message
):
    good = {"field": "customers.billing_address", "new": "9 rue Z"}
    details = {"changes": [good, {"field": field, "new": "x"}]}
    with pytest.raises(ConnectorError, match=re.escape(message)):
        billing.run(task("rectify", details), ListSink())
    assert rows(db_url, customers)[0]["billing_address"] == "1 rue A, Lyon"


def test_restrict_then_lift_marks_the_person_rows(make_billing, db_url):
    billing = make_billing(MARKED)
    assert billing.actions == ("access", "erase", "rectify", "restrict", "lift_restriction")
    outcome = billing.run(task("restrict", {}), ListSink()).outcome
    assert outcome == "restricted 1 customer, 2 invoices"
    first = marks(db_url, customers)
    assert first[1] is not None and first[2] is None
    again = billing.run(task("restrict", {}), ListSink()).outcome
    assert again == "1 customer, 2 invoices already restricted"
    assert marks(db_url, customers) == first  # the first restriction's date stands
    lifted = billing.run(task("lift_restriction", {}), ListSink()).outcome
    assert lifted == "lifted the restriction of 1 customer, 2 invoices"
    assert set(marks(db_url, customers).values()) == set(marks(db_url, invoices).values()) == {None}
    assert billing.run(task("lift_restriction", {}), ListSink()).outcome == (
        "1 customer, 2 invoices not restricted"
    )


@pytest.mark.parametrize(
    ("action", "details"),
    [
        ("restrict", {}),
        ("lift_restriction", {}),
        ("rectify", {"changes": [{"field": "customers.name", "new": "X"}]}),
        ("erase", {"keep": ["invoices"]}),
    ],
)
def test_a_person_the_database_does_not_know_is_no_data(make_billing, db_url, action, details):
    billing = make_billing(MARKED)
    before = {t.name: rows(db_url, t) for t in metadata.sorted_tables}
    assert billing.run(task(action, details, email="nobody@example.fr"), ListSink()).outcome == (
        "no data"
    )
    assert {t.name: rows(db_url, t) for t in metadata.sorted_tables} == before


def test_without_a_restrict_column_the_instance_does_not_restrict(billing):
    assert billing.actions == ("access", "erase", "rectify")
