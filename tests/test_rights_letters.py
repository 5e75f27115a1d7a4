"""The answer letters of erasure, rectification, restriction, objection and consent withdrawal:
requests built with their tasks (status, outcome, details) and decisions in the database,
each letter generated in French and in English, opened with python-docx and read for what
its article asks, and for nothing the request does not hold."""

from datetime import UTC, datetime

import pytest
from fixtures_letters import DEMO, Read, date_in
from flask_babel import force_locale

from dsr.extensions import db
from dsr.letters.common import MissingDecision
from dsr.letters.consent_withdrawal import consent_withdrawal_letter
from dsr.letters.erasure import erasure_letter
from dsr.letters.objection import objection_letter
from dsr.letters.post_mortem import post_mortem_letter
from dsr.letters.rectification import rectification_letter
from dsr.letters.register import localized
from dsr.letters.restriction import restriction_letter
from dsr.models import DataRequest, Task
from dsr.operations import create_request

ACTIVITIES = {activity["id"]: activity for activity in DEMO["register"]["activities"]}
HOLD = ACTIVITIES["invoicing_accounting"]["legal_hold"]
VERIFIED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ANSWERED = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
#: ten years after ANSWERED: the accounting hold's `retention_years`
HELD_UNTIL = datetime(2036, 3, 20, 16, 0, tzinfo=UTC)
RESTRICTED = datetime(2026, 3, 19, 10, 0, tzinfo=UTC)
LANGUAGES = ["fr", "en"]

#: the letters' own words, in each language
WORDS = {
    "fr": {
        "system": "Système",
        "done": "effectué",
        "failed": "échec",
        "not_done": "non effectué",
        "missed": "Non exécutée dans\u00a0:",
        "hold": "Ce que nous conservons au titre d'une obligation légale",
        "kept_in": "Conservé dans Billing\u00a0:",
        "restricted": "limité à cette obligation",
        "no_hold": "Aucune de vos données n'est conservée au titre d'une obligation légale.",
        "years": "10 ans à compter de la date de ce courrier",
        "art19": "(art. 19 du RGPD)",
        "rights": ["rectification", "effacement", "limitation", "opposition"],
        "complaint": "introduire une réclamation auprès de l'autorité de contrôle",
        "accepted": "Notre décision\u00a0: acceptée.",
        "refused": "Notre décision\u00a0: refusée.",
        "reason": "Motif\u00a0:",
        "nothing_held": "Aucun de nos systèmes ne détient cette donnée",
        "since": "En vigueur depuis le",
        "not_yet": "Pas encore en vigueur dans tous les systèmes",
        "art18_2": "pour la protection des droits d'une autre personne",
        "art18_3": "Nous vous informerons avant que la limitation ne soit levée",
        "absolute": "Ce droit est absolu",
        "upheld": "Nous faisons droit à votre opposition",
        "not_upheld": "Nous ne faisons pas droit à votre opposition",
        "compelling": "motifs légitimes et impérieux",
        "judicial": "recours juridictionnel",
        "lawfulness": "ne compromet pas la licéité du traitement",
        "nothing_to_stop": "Aucun système n'a eu à arrêter de traitement",
    },
    "en": {
        "system": "System",
        "done": "done",
        "failed": "failed",
        "not_done": "not done",
        "missed": "Not carried out in:",
        "hold": "What we keep under a legal obligation",
        "kept_in": "Kept in Billing:",
        "restricted": "restricted to this obligation",
        "no_hold": "None of your data is kept under a legal obligation.",
        "years": "10 years from the date of this letter",
        "art19": "(GDPR Art. 19)",
        "rights": ["rectification", "erasure", "restriction", "objection"],
        "complaint": "lodge a complaint with the supervisory authority",
        "accepted": "Our decision: accepted.",
        "refused": "Our decision: refused.",
        "reason": "Reason:",
        "nothing_held": "None of our systems holds this data",
        "since": "In force since",
        "not_yet": "Not yet in force in every system",
        "art18_2": "for the protection of the rights of another person",
        "art18_3": "We will tell you before the restriction is lifted",
        "absolute": "This right is absolute",
        "upheld": "We uphold your objection",
        "not_upheld": "We do not uphold your objection",
        "compelling": "compelling legitimate grounds",
        "judicial": "judicial remedy",
        "lawfulness": "does not affect the lawfulness of the processing",
        "nothing_to_stop": "No system was asked to stop",
    },
}


def case(app, type_, language, tasks, *, details=None, decisions=None, restricted_at=None):
    """Camille's verified request of `type_`, with `tasks` as (connector, action, status,
    outcome, details) and the handler's `decisions`; returns its id."""
    with app.app_context():
        request = create_request(
            {
                "type": type_,
                "email": "camille.durand@example.org",
                "name": "Camille Durand",
                "identifiers": {"phone": ["+33639980001"]},
                "details": details or {},
                "language": language,
            }
        )
        request.verified_at, request.restricted_at = VERIFIED, restricted_at
        request.decisions = decisions or {}
        for connector, action, status, outcome, told in tasks:
            request.tasks.append(
                Task(
                    connector=connector,
                    action=action,
                    status=status,
                    outcome=outcome,
                    details=told,
                )
            )
        db.session.commit()
        return request.id


def read(app, write, request_id: int) -> Read:
    with app.app_context():
        return Read(write(db.session.get(DataRequest, request_id), answered_at=ANSWERED))


def recipients_of(names: list[str], language: str) -> set[str]:
    return {localized(r, language) for name in names for r in ACTIVITIES[name]["recipients"]}


def purpose(name: str, language: str) -> str:
    return localized(ACTIVITIES[name]["purpose"], language)


def assert_shared_parts(app, read_letter: Read, request_id: int, language: str) -> None:
    """The controller, its DPO, the request's table and the complaint to the authority."""
    controller, authority = DEMO["controller"], DEMO["authority"]
    assert controller["name"] in read_letter.header
    assert controller["dpo"]["email"] in read_letter.text
    with app.app_context():
        ref = db.session.get(DataRequest, request_id).ref
    assert ref in read_letter.paragraphs[0]
    assert read_letter.document.core_properties.language == language
    request_table = read_letter.table_with({"fr": "Référence", "en": "Reference"}[language])
    assert {ref, date_in(language, VERIFIED), date_in(language, ANSWERED)} <= {
        row[1] for row in request_table
    }
    assert WORDS[language]["complaint"] in read_letter.text
    assert authority["name"] in read_letter.text and authority["website"] in read_letter.text


def systems_table(read_letter: Read, language: str) -> list[list[str]]:
    return read_letter.table_with(WORDS[language]["system"])


# --- erasure ----------------------------------------------------------------------

ERASED_CRM = "erased 1 contact, 3 tickets, 12 login events"
ERASED_BILLING = "erased 14 trips, 1 saved card; kept 11 invoices, 4 payments (legal hold)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_erasure_says_what_was_erased_kept_until_when_and_who_is_told(app, language):
    words = WORDS[language]
    tasks = [
        ("crm", "erase", "succeeded", ERASED_CRM, {"keep": []}),
        ("billing", "erase", "succeeded", ERASED_BILLING, {"keep": ["invoices", "payments"]}),
        ("sms", "erase", "failed", None, {"keep": []}),
    ]
    request_id = case(app, "erasure", language, tasks, details={"ground": "consent_withdrawn"})
    letter = read(app, erasure_letter, request_id)
    assert_shared_parts(app, letter, request_id, language)

    # per system, what it erased (its summary, quoted) and its status; the failure said
    assert systems_table(letter, language)[1:] == [
        ["Billing", words["done"], ERASED_BILLING],
        ["CRM", words["done"], ERASED_CRM],
        ["SMS platform", words["failed"], "—"],
    ]
    assert f"{words['missed']} SMS platform." in letter.text

    # the accounting hold: the kept fields, the ground, until when, restricted
    assert words["hold"] in letter.paragraphs
    assert purpose("invoicing_accounting", language) in letter.paragraphs
    kept = "customers.name, customers.billing_address, invoices, payments"
    assert f"{words['kept_in']} {kept}" in letter.paragraphs
    assert localized(HOLD["ground"], language) in letter.text
    until = [p for p in letter.paragraphs if localized(HOLD["retention"], language) in p]
    assert len(until) == 1
    assert words["years"] in until[0] and date_in(language, HELD_UNTIL) in until[0]
    assert words["restricted"] in letter.text

    # Art. 19: the recipients of the processing on the three systems
    assert words["art19"] in letter.text
    for recipient in recipients_of(["account_management", "rides", "sms_promotions"], language):
        assert recipient in letter.paragraphs
    for right in words["rights"]:
        assert right in letter.text


@pytest.mark.sqlite_only
@pytest.mark.parametrize("language", LANGUAGES)
def test_erasure_invents_no_hold_where_none_applies(app, language):
    words = WORDS[language]
    tasks = [
        ("crm", "erase", "succeeded", ERASED_CRM, {"keep": []}),
        # billing holds the accounting data but erased nothing: no hold to report there
        ("billing", "erase", "skipped", "this system does not support 'erase'", {}),
    ]
    letter = read(app, erasure_letter, case(app, "erasure", language, tasks))
    assert words["no_hold"] in letter.paragraphs
    assert words["kept_in"] not in letter.text
    assert localized(HOLD["ground"], language) not in letter.text
    assert purpose("invoicing_accounting", language) not in letter.paragraphs
    assert ["Billing", words["not_done"], "this system does not support 'erase'"] in (
        systems_table(letter, language)
    )
    assert f"{words['missed']} Billing." in letter.text
    # the recipients of the CRM's and billing's processing, not the SMS platform's
    assert localized(ACTIVITIES["sms_promotions"]["recipients"][0], language) not in letter.text


# --- rectification ----------------------------------------------------------------

CHANGES = [
    {
        "field": "postal address",
        "current_value": "3 rue des Lilas, 69003 Lyon",
        "corrected_value": "5 avenue Foch, 69006 Lyon",
    },
    {"field": "date of birth", "current_value": "1990-01-01", "corrected_value": "1991-01-01"},
    {"field": "favourite colour", "corrected_value": "green"},
]
REFUSAL = "We do not record your date of birth; the one on your ID was checked."
ACCEPTED_FIELDS = ["crm.contacts.postal_address", "billing.customers.billing_address"]
DECISIONS = {
    "changes": [
        {"index": 0, "accepted": True, "fields": ACCEPTED_FIELDS},
        {"index": 1, "accepted": False, "reason": REFUSAL},
        {"index": 2, "accepted": True, "fields": []},
    ]
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_rectification_gives_each_decision_and_what_each_system_corrected(app, language):
    words = WORDS[language]
    tasks = [
        ("crm", "rectify", "succeeded", "changed contacts.postal_address on 1 contact", {}),
        ("billing", "rectify", "failed", None, {}),
    ]
    request_id = case(
        app,
        "rectification",
        language,
        tasks,
        details={"changes": CHANGES},
        decisions=DECISIONS,
    )
    letter = read(app, rectification_letter, request_id)
    assert_shared_parts(app, letter, request_id, language)

    for change in CHANGES:
        assert any(p.endswith(change["field"]) for p in letter.paragraphs)
        assert any(p.endswith(change["corrected_value"]) for p in letter.paragraphs)
    assert any(p.endswith(CHANGES[0]["current_value"]) for p in letter.paragraphs)
    assert letter.paragraphs.count(words["accepted"]) == 2
    assert letter.paragraphs.count(words["refused"]) == 1
    assert f"{words['reason']} {REFUSAL}" in letter.paragraphs
    # the accepted change: what each system that holds the field did
    assert systems_table(letter, language)[1:] == [
        ["Billing", words["failed"], "—"],
        ["CRM", words["done"], "changed contacts.postal_address on 1 contact"],
    ]
    assert f"{words['missed']} Billing." in letter.text
    # the accepted change that no system holds
    assert any(p.startswith(words["nothing_held"]) for p in letter.paragraphs)
    # Art. 19: the recipients of the activities holding the corrected fields, only those
    assert words["art19"] in letter.text
    for recipient in recipients_of(["account_management", "invoicing_accounting"], language):
        assert recipient in letter.paragraphs
    for other in recipients_of(["sms_promotions", "payments"], language) - recipients_of(
        ["account_management", "invoicing_accounting"], language
    ):
        assert other not in letter.text


@pytest.mark.sqlite_only
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_rectification_all_refused_names_no_system_nor_recipient(app, language):
    words = WORDS[language]
    refused = {"changes": [{"index": 0, "accepted": False, "reason": REFUSAL}]}
    request_id = case(
        app, "rectification", language, [], details={"changes": CHANGES[:1]}, decisions=refused
    )
    letter = read(app, rectification_letter, request_id)
    assert words["refused"] in letter.paragraphs and words["accepted"] not in letter.text
    assert words["art19"] not in letter.text
    assert not any(table[0][0] == words["system"] for table in letter.tables)


@pytest.mark.sqlite_only
def test_a_change_without_a_decision_stops_the_letter(app):
    undecided = {"changes": [{"index": 0, "accepted": True, "fields": ACCEPTED_FIELDS}]}
    request_id = case(
        app, "rectification", "en", [], details={"changes": CHANGES[:2]}, decisions=undecided
    )
    with app.app_context(), force_locale("en"):
        with pytest.raises(MissingDecision, match="Change 2 has no decision"):
            rectification_letter(db.session.get(DataRequest, request_id))


# --- restriction ------------------------------------------------------------------

RESTRICT_TASKS = [
    ("crm", "restrict", "succeeded", "restricted 1 contact", {}),
    ("billing", "restrict", "succeeded", "restricted 1 customer", {}),
    ("sms", "restrict", "skipped", "this system does not support 'restrict'", {}),
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_restriction_says_since_when_what_it_means_and_the_notice_before_lifting(app, language):
    words = WORDS[language]
    request_id = case(
        app,
        "restriction",
        language,
        RESTRICT_TASKS,
        details={"ground": "accuracy_contested"},
        restricted_at=RESTRICTED,
    )
    letter = read(app, restriction_letter, request_id)
    assert_shared_parts(app, letter, request_id, language)
    since = [p for p in letter.paragraphs if p.startswith(words["since"])]
    assert len(since) == 1 and date_in(language, RESTRICTED) in since[0]
    assert words["not_yet"] not in letter.text
    assert systems_table(letter, language)[1:] == [
        ["Billing", words["done"], "restricted 1 customer"],
        ["CRM", words["done"], "restricted 1 contact"],
        ["SMS platform", words["not_done"], "this system does not support 'restrict'"],
    ]
    assert f"{words['missed']} SMS platform." in letter.text
    assert words["art18_2"] in letter.text and words["art18_3"] in letter.text
    assert words["art19"] in letter.text
    for recipient in recipients_of(["account_management", "service_sms"], language):
        assert recipient in letter.paragraphs


@pytest.mark.sqlite_only
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_restriction_not_yet_in_force_gives_no_date(app, language):
    words = WORDS[language]
    tasks = [("crm", "restrict", "failed", None, {})]
    letter = read(app, restriction_letter, case(app, "restriction", language, tasks))
    assert words["since"] not in letter.text
    assert any(p.startswith(words["not_yet"]) for p in letter.paragraphs)
    assert f"{words['missed']} CRM." in letter.text


# --- objection --------------------------------------------------------------------

MARKETING_TASKS = [
    (
        "crm",
        "object",
        "succeeded",
        "newsletter consent withdrawn",
        {"activities": ["email_newsletter"], "direct_marketing": True},
    ),
    (
        "sms",
        "object",
        "succeeded",
        "opted out of promotions",
        {"activities": ["sms_promotions"], "direct_marketing": True},
    ),
]
REASONING = "Login events are needed to detect account takeovers, which protects you too."
SITUATION = {
    "basis": "particular_situation",
    "processing": "fraud scoring of my logins",
    "grounds": "I share my phone with my brother.",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_objection_to_marketing_lists_the_marketing_stopped_per_system(app, language):
    words = WORDS[language]
    details = {"basis": "direct_marketing"}
    request_id = case(app, "objection", language, MARKETING_TASKS, details=details)
    letter = read(app, objection_letter, request_id)
    assert_shared_parts(app, letter, request_id, language)
    assert words["absolute"] in letter.text
    assert systems_table(letter, language)[1:] == [
        ["CRM", purpose("email_newsletter", language), words["done"], MARKETING_TASKS[0][3]],
        ["SMS platform", purpose("sms_promotions", language), words["done"], MARKETING_TASKS[1][3]],
    ]
    for absent in ("upheld", "not_upheld", "judicial"):
        assert words[absent] not in letter.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_upheld_objection_lists_the_activities_stopped(app, language):
    words = WORDS[language]
    decision = {"upheld": True, "activities": ["fraud_prevention"], "reasoning": "Fair point."}
    told = {"activities": ["fraud_prevention"], "direct_marketing": False}
    tasks = [("crm", "object", "succeeded", "stopped fraud scoring for 1 contact", told)]
    request_id = case(
        app, "objection", language, tasks, details=SITUATION, decisions={"objection": decision}
    )
    letter = read(app, objection_letter, request_id)
    assert_shared_parts(app, letter, request_id, language)
    assert any(p.startswith(words["upheld"]) for p in letter.paragraphs)
    assert purpose("fraud_prevention", language) in letter.paragraphs  # the list of stopped
    assert any(p.endswith(SITUATION["processing"]) for p in letter.paragraphs)
    assert systems_table(letter, language)[1][-2:] == [words["done"], tasks[0][3]]
    assert words["not_upheld"] not in letter.text and words["judicial"] not in letter.text
    assert words["absolute"] not in letter.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_objection_not_upheld_gives_the_grounds_and_the_remedies(app, language):
    words = WORDS[language]
    decision = {"upheld": False, "activities": [], "reasoning": REASONING}
    request_id = case(
        app, "objection", language, [], details=SITUATION, decisions={"objection": decision}
    )
    letter = read(app, objection_letter, request_id)
    assert_shared_parts(app, letter, request_id, language)
    assert any(p.startswith(words["not_upheld"]) for p in letter.paragraphs)
    assert words["compelling"] in letter.text and REASONING in letter.paragraphs
    assert words["judicial"] in letter.text and words["complaint"] in letter.text
    assert not any(table[0][0] == words["system"] for table in letter.tables)
    assert purpose("fraud_prevention", language) not in letter.text


@pytest.mark.sqlite_only
def test_an_objection_on_a_particular_situation_without_a_decision_stops_the_letter(app):
    request_id = case(app, "objection", "en", [], details=SITUATION)
    with app.app_context(), force_locale("en"):
        with pytest.raises(MissingDecision, match="The objection has no decision"):
            objection_letter(db.session.get(DataRequest, request_id))


# --- consent withdrawal -----------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_consent_withdrawal_names_the_purposes_and_keeps_the_past_lawful(app, language):
    words = WORDS[language]
    named = ["sms_promotions", "email_newsletter", "partner offers"]
    tasks = [
        (
            "crm",
            "withdraw_consent",
            "succeeded",
            "newsletter consent withdrawn",
            {"activities": ["email_newsletter"]},
        ),
        ("sms", "withdraw_consent", "waiting_callback", None, {"activities": ["sms_promotions"]}),
    ]
    request_id = case(app, "consent_withdrawal", language, tasks, details={"purposes": named})
    letter = read(app, consent_withdrawal_letter, request_id)
    assert_shared_parts(app, letter, request_id, language)
    for text in (purpose("sms_promotions", language), purpose("email_newsletter", language)):
        assert text in letter.paragraphs
    assert "partner offers" in letter.paragraphs  # the person's own words, as they are
    in_progress = {"fr": "en cours", "en": "in progress"}[language]
    assert systems_table(letter, language)[1:] == [
        ["CRM", purpose("email_newsletter", language), words["done"], tasks[0][3]],
        ["SMS platform", purpose("sms_promotions", language), in_progress, "—"],
    ]
    assert f"{words['missed']} SMS platform." in letter.text
    assert words["lawfulness"] in letter.text
    assert words["nothing_to_stop"] not in letter.text


@pytest.mark.sqlite_only
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_consent_withdrawal_matching_no_processing_says_so(app, language):
    words = WORDS[language]
    request_id = case(app, "consent_withdrawal", language, [], details={"purposes": ["fax"]})
    letter = read(app, consent_withdrawal_letter, request_id)
    assert "fax" in letter.paragraphs
    assert any(p.startswith(words["nothing_to_stop"]) for p in letter.paragraphs)
    assert words["lawfulness"] in letter.text
    assert words["missed"] not in letter.text


# --- death notice -------------------------------------------------------------------

DEATH_NOTICE = {
    "mode": "death_notice",
    "requester_role": "heir",
    "deceased_name": "Jean Durand",
    "deceased_email": "jean.durand@example.org",
    "date_of_death": "2026-02-01",
}
REGISTERED = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
DEATH_WORDS = {
    "fr": {
        "directives": "Jean Durand nous a confié des directives le",
        "keep": "Conserver mes données",
        "kept": "nous conservons les données",
        "no_directives": "Jean Durand ne nous a confié aucune directive",
        "oppose": "Vous opposer à tout traitement ultérieur des données du défunt",
        "stopped": "a été invité à cesser de traiter les données du défunt",
    },
    "en": {
        "directives": "Jean Durand registered directives with us on",
        "keep": "Keep my data",
        "kept": "we keep the data",
        "no_directives": "Jean Durand registered no directives with us",
        "oppose": "Oppose any further processing of the deceased's data",
        "stopped": "was told to stop processing them",
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_death_notice_says_which_directives_were_found_and_what_was_done(app, language):
    words = DEATH_WORDS[language]
    keep = {
        "execute": "keep",
        "heirs_rights": [],
        "directive_registered_at": REGISTERED.isoformat(),
    }
    request_id = case(
        app, "post_mortem", language, [], details=DEATH_NOTICE, decisions={"death_notice": keep}
    )
    letter = read(app, post_mortem_letter, request_id)
    assert_shared_parts(app, letter, request_id, language)
    assert words["directives"] in letter.text and date_in(language, REGISTERED) in letter.text
    assert words["keep"] in letter.text and words["kept"] in letter.text

    heirs = {"execute": "heirs", "heirs_rights": ["oppose_processing"]}
    tasks = [("crm", "object", "succeeded", "stopped 2 activities", {"activities": ["support"]})]
    request_id = case(
        app, "post_mortem", language, tasks, details=DEATH_NOTICE, decisions={"death_notice": heirs}
    )
    letter = read(app, post_mortem_letter, request_id)
    assert words["no_directives"] in letter.text and words["oppose"] in letter.paragraphs
    assert words["stopped"] in letter.text
    assert ["CRM", WORDS[language]["done"], "stopped 2 activities"] in [
        row[:1] + row[-2:] for row in systems_table(letter, language)
    ]


def test_a_death_notice_not_checked_has_no_letter(app):
    request_id = case(app, "post_mortem", "en", [], details=DEATH_NOTICE)
    with pytest.raises(MissingDecision):
        read(app, post_mortem_letter, request_id)
