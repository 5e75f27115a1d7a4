"""The shipped demo instance: a complete, consistent Art. 30 register the workflows can rely on."""

import tomllib

import pytest

import workflows
from dsr.config import DEMO_CONFIG

#: the demo instance TOML: the database is incidental
pytestmark = pytest.mark.sqlite_only

LEGAL_BASES = {
    "consent",
    "contract",
    "legal_obligation",
    "legitimate_interest",
    "vital_interests",
    "public_task",
}
CONNECTORS = {"crm", "billing", "sms"}
REQUIRED = {
    "id",
    "purpose",
    "legal_basis",
    "data_categories",
    "recipients",
    "retention",
    "source",
    "connectors",
    "fields",
    "automated_decision",
}


def load_demo() -> dict:
    """The shipped file, parsed exactly as the app parses it."""
    with open(DEMO_CONFIG, "rb") as fh:
        return tomllib.load(fh)


#: parsed at collection, so that each activity is a test of its own
DEMO_ACTIVITIES = load_demo()["register"]["activities"]


@pytest.fixture(scope="module")
def instance() -> dict:
    return load_demo()


@pytest.fixture(scope="module")
def activities(instance) -> list[dict]:
    return instance["register"]["activities"]


def assert_bilingual(value, where: str) -> None:
    """A text shown to subjects: both languages present and not blank."""
    assert isinstance(value, dict), f"{where}: expected a {{fr, en}} table"
    assert set(value) == {"fr", "en"}, f"{where}: keys {sorted(value)}"
    for language, text in value.items():
        assert isinstance(text, str) and text.strip(), f"{where}.{language} is blank"


def covered(field: str, fields: list[str]) -> bool:
    """A field is covered by itself or by its whole table."""
    return any(field == other or field.startswith(other + ".") for other in fields)


def test_controller_identity_is_complete(instance):
    controller = instance["controller"]
    assert controller["name"] == "Mobilités Démo SAS"
    assert len(controller["siren"]) == 9 and controller["siren"].isdigit()
    assert controller["phone"].startswith("+33 ")
    assert controller["languages"] == ["fr", "en"]
    assert set(controller["dpo"]) >= {"name", "email", "address"}
    assert "CNIL" in instance["authority"]["name"]


def test_fees_note_says_first_copy_free(instance):
    fees = instance["controller"]["fees"]
    assert fees["first_copy_free"] is True
    assert_bilingual(fees["note"], "controller.fees.note")
    assert "gratuitement" in fees["note"]["fr"]
    assert "free of charge" in fees["note"]["en"]


def test_processing_settings(instance):
    processing = instance["processing"]
    assert set(processing["auto_start"]) <= set(workflows.names())
    assert set(processing["auto_start"]) == {
        "access",
        "portability",
        "consent_withdrawal",
        "objection",
        "post_mortem",  # the registration of directives only (its `starts_itself`)
    }
    assert processing["callback_timeout_days"] == 7


def test_register_size_and_unique_ids(activities):
    ids = [activity["id"] for activity in activities]
    assert 6 <= len(ids) <= 9
    assert len(ids) == len(set(ids)), "activity ids must be unique"
    assert all(id_.isidentifier() and id_ == id_.lower() for id_ in ids), "ids are snake_case"


@pytest.mark.parametrize("activity", DEMO_ACTIVITIES, ids=lambda a: str(a.get("id")))
def test_activity_is_complete(activity):
    where = activity.get("id", "an activity without id")
    assert REQUIRED <= set(activity), f"{where}: missing {sorted(REQUIRED - set(activity))}"
    assert activity["legal_basis"] in LEGAL_BASES
    assert activity["automated_decision"] is False
    assert isinstance(activity.get("direct_marketing"), bool)
    for key in ("purpose", "retention", "source"):
        assert_bilingual(activity[key], f"{where}.{key}")
    assert activity["recipients"], f"{where}: no recipients"
    for number, recipient in enumerate(activity["recipients"]):
        text = {key: value for key, value in recipient.items() if key != "notify"}
        assert_bilingual(text, f"{where}.recipients[{number}]")
        if "notify" in recipient:  # an address for its Art. 19 notices
            assert "@" in recipient["notify"], f"{where}.recipients[{number}].notify"
    if "transfers_outside_eu" in activity:
        assert_bilingual(activity["transfers_outside_eu"], f"{where}.transfers_outside_eu")


def test_fields_belong_to_the_activity_connectors(activities):
    for activity in activities:
        assert activity["connectors"] and set(activity["connectors"]) <= CONNECTORS
        assert activity["fields"], activity["id"]
        for field in activity["fields"]:
            connector, _, rest = field.partition(".")
            assert rest, f"{activity['id']}: {field!r} names no table"
            assert connector in activity["connectors"], f"{activity['id']}: {field!r}"


def test_data_categories_are_declared_with_labels(instance, activities):
    declared = instance["register"]["data_categories"]
    ids = [category["id"] for category in declared]
    assert len(ids) == len(set(ids))
    for category in declared:
        assert_bilingual(category["label"], f"data_categories.{category['id']}")
    used = {name for activity in activities for name in activity["data_categories"]}
    assert used <= set(ids), f"undeclared categories: {sorted(used - set(ids))}"


def test_legal_bases_the_workflows_need(activities):
    bases = [activity["legal_basis"] for activity in activities]
    assert bases.count("consent") >= 2
    assert {"contract", "legal_obligation", "legitimate_interest"} <= set(bases)
    marketing = [activity for activity in activities if activity["direct_marketing"]]
    assert marketing and all(activity["legal_basis"] == "consent" for activity in marketing)


def test_accounting_is_under_a_ten_year_legal_hold(activities):
    held = [activity for activity in activities if "legal_hold" in activity]
    assert held, "erasure needs at least one legal hold"
    accounting = next(a for a in held if a["legal_basis"] == "legal_obligation")
    hold = accounting["legal_hold"]
    assert_bilingual(hold["ground"], "legal_hold.ground")
    assert_bilingual(hold["retention"], "legal_hold.retention")
    assert "L123-22" in hold["ground"]["fr"] and "L123-22" in hold["ground"]["en"]
    assert hold["retention_years"] == 10
    assert "billing.invoices" in hold["fields"]


def test_legal_hold_fields_are_fields_of_their_activity(activities):
    for activity in activities:
        for field in activity.get("legal_hold", {}).get("fields", []):
            assert covered(field, activity["fields"]), f"{activity['id']}: {field}"


def test_the_app_loads_the_register_by_default(app, instance):
    loaded = app.config["INSTANCE"]
    assert loaded["register"] == instance["register"]
    assert loaded["processing"]["callback_timeout_days"] == 7
    assert {a["id"] for a in loaded["register"]["activities"]} >= {"invoicing_accounting"}


def test_the_demo_connectors_are_the_ones_the_tests_run(instance):
    """tests/fixtures_demo.py mirrors the demo's [connectors]; only the addresses differ."""
    from fixtures_demo import DEMO_URL_ENV, demo_connectors_config

    mirrored = demo_connectors_config("", "", "")
    for name, variable in DEMO_URL_ENV.items():
        del mirrored[name]["url"]
        mirrored[name]["url_env"] = variable
    assert instance["connectors"] == mirrored


def test_the_demo_connectors_go_where_the_variables_say(make_app, monkeypatch):
    """scripts/run.sh starts the demo systems on CRM_PORT and SMS_PORT and sets these."""
    urls = {
        "DSR_CRM_URL": "http://127.0.0.1:18701/dsr",
        "DSR_SMS_URL": "http://127.0.0.1:18702/dsr",
        "DSR_BILLING_URL": "sqlite:///billing-elsewhere.sqlite3",
    }
    for variable, url in urls.items():
        monkeypatch.setenv(variable, url)
    connectors = make_app().extensions["dsr.connectors"]
    assert connectors["crm"].url == urls["DSR_CRM_URL"]
    assert connectors["sms"].url == urls["DSR_SMS_URL"]
    assert str(connectors["billing"].engine.url) == urls["DSR_BILLING_URL"]
