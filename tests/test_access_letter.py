"""The Art. 15 letter: opened with python-docx and read for every item Art. 15 asks, in French
and in English, from the demo instance's processing register."""

import copy
from datetime import UTC, datetime

import pytest
from fixtures_letters import DEMO, Read, date_in

from dsr.extensions import db
from dsr.letters import blocks
from dsr.letters.access import Withheld, access_letter
from dsr.letters.register import localized
from dsr.models import DataRequest, Task
from dsr.operations import create_request

ACTIVITIES = {activity["id"]: activity for activity in DEMO["register"]["activities"]}
CATEGORIES = {c["id"]: c["label"] for c in DEMO["register"]["data_categories"]}
VERIFIED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ANSWERED = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)

#: what the systems returned for Camille: the SMS platform found nothing
FOUND = {
    "crm": {"contacts": 1, "accounts": 1, "tickets": 2},
    "billing": {"customers": 1, "trips": 12, "invoices": 3, "payments": 3},
    "sms": {},
}
#: a record a handler left out, with the reason the person reads
LEFT_OUT = Withheld("crm", "tickets", "It quotes another customer's complaint.", "ticket 4812")

#: the letter's own words for what the register does not hold, in each language
WORDS = {
    "fr": {
        "dpo": "Délégué à la protection des données\u00a0:",
        "basis": "l'exécution d'un contrat",
        "legal_obligation": "une obligation légale",
        "automated": "Prise de décision automatisée, y compris le profilage",
        "none": "aucune",
        "rights": ["rectification", "effacement", "limitation", "opposition"],
        "complaint": "introduire une réclamation auprès de l'autorité de contrôle",
        "no_data": "aucune donnée",
        "not_searched": "non interrogé",
        "annex": "Annexe\u00a0: éléments non communiqués",
        "nothing": "Aucun\u00a0: nous vous communiquons tout ce que nos systèmes ont renvoyé.",
        "transfers": "Transferts hors de l'Union européenne",
        "found_none": "n'avons trouvé aucune donnée vous concernant",
    },
    "en": {
        "dpo": "Data protection officer:",
        "basis": "the performance of a contract",
        "legal_obligation": "a legal obligation",
        "automated": "Automated decision-making, including profiling",
        "none": "none",
        "rights": ["rectification", "erasure", "restriction", "objection"],
        "complaint": "lodge a complaint with the supervisory authority",
        "no_data": "no data",
        "not_searched": "not searched",
        "annex": "Annex: not communicated",
        "nothing": "Nothing: we communicate everything our systems returned.",
        "transfers": "Transfers outside the European Union",
        "found_none": "found no data about you",
    },
}


def camille(app, language: str, found: dict, *, statuses: dict | None = None) -> int:
    """Camille's verified access request, with one finished access task per system."""
    with app.app_context():
        request = create_request(
            {
                "type": "access",
                "email": "camille.durand@example.org",
                "name": "Camille Durand",
                "identifiers": {"phone": ["+33639980001"]},
                "details": {},
                "language": language,
            }
        )
        request.verified_at = VERIFIED
        for connector, counts in found.items():
            status = (statuses or {}).get(connector, "succeeded")
            request.tasks.append(
                Task(connector=connector, action="access", status=status, record_counts=counts)
            )
        db.session.commit()
        return request.id


def letter(app, request_id: int, **kwargs) -> bytes:
    with app.app_context():
        return access_letter(
            db.session.get(DataRequest, request_id), answered_at=ANSWERED, **kwargs
        )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_letter_holds_every_item_of_article_15(app, language):
    words = WORDS[language]
    data = letter(app, camille(app, language, FOUND), not_communicated=[LEFT_OUT])
    read = Read(data)
    controller, authority = DEMO["controller"], DEMO["authority"]

    # the controller on every page, and its DPO
    assert controller["name"] in read.header and controller["address"] in read.header
    assert f"{words['dpo']} {controller['dpo']['name']}" in read.text
    assert controller["dpo"]["email"] in read.text

    # the request and its dates
    with app.app_context():
        request = db.session.scalars(db.select(DataRequest)).one()
        ref, received = request.ref, request.received_at
    assert ref in read.paragraphs[0]
    assert read.document.core_properties.language == language
    assert read.document.core_properties.title == read.paragraphs[0]
    dates = {row[1] for row in read.table_with({"fr": "Référence", "en": "Reference"}[language])}
    assert {ref, date_in(language, received), date_in(language, VERIFIED)} <= dates
    assert date_in(language, ANSWERED) in dates

    # every activity whose tables returned records, with each Art. 15(1) item
    for name in ("account_management", "rides", "payments", "invoicing_accounting"):
        activity = ACTIVITIES[name]
        assert localized(activity["purpose"], language) in read.paragraphs  # its heading
        assert localized(activity["retention"], language) in read.text
        assert localized(activity["source"], language) in read.text
        for recipient in activity["recipients"]:
            assert localized(recipient, language) in read.text
        for category in activity["data_categories"]:
            assert localized(CATEGORIES[category], language) in read.text
    assert words["basis"] in read.text and words["legal_obligation"] in read.text
    assert (
        localized(ACTIVITIES["invoicing_accounting"]["legal_hold"]["ground"], language) in read.text
    )
    automated = [p for p in read.paragraphs if p.startswith(words["automated"])]
    assert len(automated) == len(activities_listed(read, language)) > 0
    assert all(p.endswith(words["none"]) for p in automated)
    # Art. 15(2): the safeguards of the CRM's transfers to the United States
    assert (
        localized(ACTIVITIES["account_management"]["transfers_outside_eu"], language) in read.text
    )
    # the SMS platform found nothing: its activities are not the person's
    for name in ("service_sms", "sms_promotions"):
        assert localized(ACTIVITIES[name]["purpose"], language) not in read.text

    # the rights, the complaint to the authority, the fees
    for right in words["rights"]:
        assert right in read.text
    assert words["complaint"] in read.text
    assert authority["name"] in read.text and authority["website"] in read.text
    assert localized(controller["fees"]["note"], language) in read.paragraphs

    # what each system returned, the one that found nothing said so
    systems = read.table_with({"fr": "Système", "en": "System"}[language])
    assert ["CRM", "tickets", "2"] in systems and ["Billing", "trips", "12"] in systems
    assert ["SMS platform", "—", words["no_data"]] in systems
    assert len(systems) == 1 + 3 + 4 + 1

    # the annex: what was left out, and why
    assert words["annex"] in read.paragraphs
    before_annex = read.document.paragraphs[read.paragraphs.index(words["annex"]) - 1]
    assert 'w:type="page"' in before_annex._p.xml  # the annex starts a page of its own
    annex = read.tables[-1]
    assert annex[1] == ["CRM", "tickets", "ticket 4812", LEFT_OUT.reason]


def activities_listed(read: Read, language: str) -> list[str]:
    purposes = {localized(a["purpose"], language) for a in ACTIVITIES.values()}
    return [p for p in read.paragraphs if p in purposes]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_person_found_nowhere_is_told_so_without_activities(app, language):
    words = WORDS[language]
    found = {"crm": {}, "billing": {"customers": 0}, "sms": {}}
    read = Read(letter(app, camille(app, language, found, statuses={"sms": "skipped"})))
    assert words["found_none"] in read.text
    assert activities_listed(read, language) == []
    assert words["transfers"] not in read.text
    systems = read.table_with({"fr": "Système", "en": "System"}[language])
    assert systems[1:] == [
        ["Billing", "—", words["no_data"]],
        ["CRM", "—", words["no_data"]],
        ["SMS platform", "—", words["not_searched"]],
    ]
    assert words["nothing"] in read.paragraphs  # the annex says that nothing was left out
    # still the rights, the authority and the fees
    assert DEMO["authority"]["website"] in read.text
    assert localized(DEMO["controller"]["fees"]["note"], language) in read.paragraphs


@pytest.mark.sqlite_only
@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_automated_decision_is_described_and_no_transfer_is_invented(make_app, language):
    instance = copy.deepcopy(DEMO)
    logic = {
        "fr": "Un score de risque calculé sur vos impayés peut suspendre votre compte.",
        "en": "A risk score computed from unpaid rides may suspend your account.",
    }
    for activity in instance["register"]["activities"]:
        activity.pop("transfers_outside_eu", None)
        if activity["id"] == "rides":
            activity["automated_decision"] = logic
    app = make_app(INSTANCE=instance)
    read = Read(letter(app, camille(app, language, {"billing": {"trips": 3}})))
    assert activities_listed(read, language) == [
        localized(ACTIVITIES["rides"]["purpose"], language)
    ]
    assert any(
        p.startswith(WORDS[language]["automated"]) and p.endswith(logic[language])
        for p in read.paragraphs
    )
    assert WORDS[language]["transfers"] not in read.text


@pytest.mark.sqlite_only
def test_values_with_markup_characters_are_written_as_they_are(app):
    reason = 'Names <another> customer & "quotes" them: l\'avis'
    request_id = camille(app, "en", {"crm": {"tickets": 1}})
    left_out = [{"connector": "crm", "table": "tickets", "reason": reason, "record": "#7 <b>"}]
    read = Read(letter(app, request_id, not_communicated=left_out))
    assert read.tables[-1][1] == ["CRM", "tickets", "#7 <b>", reason]


def test_a_template_with_an_unknown_tag_is_refused_by_name():
    with pytest.raises(blocks.LetterMarkupError, match="<blink>"):
        blocks.parse("<letter><blink>hi</blink></letter>")
    with pytest.raises(blocks.LetterMarkupError, match="not well-formed"):
        blocks.parse("<letter><p>open</letter>")
