"""The handler's check of a death notice (Loi 78-17 Art. 85) and what it plans: the
directives in force decide, a hand-over only for the person designated, the heirs'
rights only for an heir without directives; nothing before the documents arrived."""

import copy
from datetime import UTC, datetime

import pytest
from fixtures_answers import by_ref, case_url, kinds, manual_system
from fixtures_staff import bearer, new_case
from test_documents import PDF, send, status_of

from dsr import systems
from dsr.config import DEMO_CONFIG, load_instance
from dsr.extensions import db
from dsr.models import Directive
from dsr.processing import plan
from workflows.post_mortem import PostMortem

DECEASED = "jean.durand@example.org"
NOTICE = {
    "mode": "death_notice",
    "requester_role": "heir",
    "deceased_name": "Jean Durand",
    "deceased_email": DECEASED,
    "date_of_death": "2026-10-01",
}


@pytest.fixture
def app(make_app):
    return make_app(DOCUMENT_MAX_BYTES=50_000)


def notice(app, *, role="heir", email="alice@example.org", documents=True) -> str:
    ref = new_case(
        app, "open", type_="post_mortem", details={**NOTICE, "requester_role": role}, email=email
    )
    if documents:
        assert send(app.test_client(), status_of(app, ref), PDF).status_code == 303
    return ref


def directives(app, directive: str, trusted: str | None = None) -> None:
    with app.app_context():
        registered = new_case(
            app,
            "completed",
            type_="post_mortem",
            details={"mode": "directives", "directive": "keep"},
            email="jean.durand@example.org",
        )
        db.session.add(
            Directive(
                request_id=by_ref(registered).id,
                email=DECEASED,
                directive=directive,
                trusted_person_email=trusted,
                trusted_person_name="Léa" if trusted else None,
                registered_at=datetime(2025, 6, 1, tzinfo=UTC),  # before the death
            )
        )
        db.session.commit()


def decide(app, token, ref, body=None):
    return app.test_client().post(
        f"/api/v1/requests/{ref}/death-notice/decision",
        headers={**bearer(token), "Accept-Language": "en"},
        json=body or {},
    )


def test_nothing_is_decided_without_documents(app, staff_tokens):
    ref = notice(app, documents=False)
    refused = decide(app, staff_tokens["handler"], ref, {"heirs_rights": ["close_accounts"]})
    assert refused.status_code == 409
    assert "No document" in refused.get_json()["error"]["message"]


def test_a_viewer_cannot_decide(app, staff_tokens, viewer_client):
    ref = notice(app)
    assert decide(app, staff_tokens["viewer"], ref).status_code == 403
    assert "death-notice/decision" not in viewer_client.get(case_url(ref)).get_data(as_text=True)


def test_a_hand_over_is_only_for_the_person_designated(app, staff_tokens):
    directives(app, "hand_over", trusted="lea@example.org")
    other = notice(app, role="designated_person", email="someone@example.org")
    refused = decide(app, staff_tokens["handler"], other)
    assert refused.status_code == 409 and "designated" in refused.get_json()["error"]["message"]
    lea = notice(app, role="designated_person", email="Lea@Example.org")
    accepted = decide(app, staff_tokens["handler"], lea)
    assert accepted.status_code == 200
    with app.app_context():
        request = by_ref(lea)
        assert request.decisions["death_notice"]["execute"] == "hand_over"
        assert {t.action for t in plan(request)} == {"access"}
    assert "decision.death_notice" in kinds(app, lea)


def test_without_directives_only_an_heir_chooses_the_heirs_rights(app, staff_tokens):
    designated = notice(app, role="designated_person")
    assert decide(app, staff_tokens["handler"], designated).status_code == 409
    heir = notice(app, email="heir@example.org")
    assert decide(app, staff_tokens["handler"], heir).status_code == 409  # none chosen
    wrong = decide(app, staff_tokens["handler"], heir, {"heirs_rights": ["sell_the_data"]})
    assert wrong.status_code == 422
    chosen = decide(app, staff_tokens["handler"], heir, {"heirs_rights": ["oppose_processing"]})
    assert chosen.status_code == 200
    assert by_ref_decision(app, heir) == {"execute": "heirs", "heirs_rights": ["oppose_processing"]}


def by_ref_decision(app, ref):
    with app.app_context():
        decision = by_ref(ref).decisions["death_notice"]
        return {key: decision[key] for key in ("execute", "heirs_rights")}


EVERY_ACTION = ["access", "erase", "rectify", "restrict", "object", "withdraw_consent"]


@pytest.fixture
def planning_app(make_app):
    """The demo register, on three systems a person answers for (manual)."""
    config = copy.deepcopy(load_instance(str(DEMO_CONFIG)))
    config["connectors"] = {
        name: manual_system(name, *EVERY_ACTION) for name in ("crm", "billing", "sms")
    }
    return make_app(INSTANCE=config)


@pytest.mark.parametrize(
    ("decision", "planned"),
    [
        ({"execute": "erase"}, {("crm", "erase"), ("sms", "erase"), ("billing", "erase")}),
        ({"execute": "keep"}, set()),
        ({"execute": "hand_over"}, {("crm", "access"), ("sms", "access"), ("billing", "access")}),
        (
            {"execute": "heirs", "heirs_rights": ["oppose_processing"]},
            {("crm", "object"), ("sms", "object"), ("billing", "object")},
        ),
        (
            {"execute": "heirs", "heirs_rights": ["close_accounts", "oppose_processing"]},
            {("crm", "erase"), ("sms", "erase"), ("billing", "erase")},
        ),
    ],
)
def test_what_each_execution_plans(planning_app, decision, planned):
    ref = new_case(planning_app, "open", type_="post_mortem", details=NOTICE)
    with planning_app.app_context():
        request = by_ref(ref)
        request.decisions = {"death_notice": {"heirs_rights": [], **decision}}
        tasks = plan(request)
        assert {(t.connector, t.action) for t in tasks} == planned
        assert all(t.status == "pending" for t in tasks)  # found by the deceased's email
        case = systems.case_of(request)
        erasing = "erase" in {action for _c, action in planned}
        assert ("suppress" in PostMortem.when_done(case)) == erasing
        assert PostMortem.holds_data(case) == (decision["execute"] == "hand_over")
        if erasing:
            [billing] = [t for t in tasks if t.connector == "billing"]
            assert billing.details["keep"]  # the accounting legal hold
        db.session.rollback()


def test_a_notice_without_the_deceaseds_email_is_not_carried_out(app, staff_tokens):
    without = {key: value for key, value in NOTICE.items() if key != "deceased_email"}
    ref = new_case(app, "open", type_="post_mortem", details=without)
    assert send(app.test_client(), status_of(app, ref), PDF).status_code == 303
    refused = decide(app, staff_tokens["handler"], ref, {"heirs_rights": ["close_accounts"]})
    assert (
        refused.status_code == 409 and "no email address" in refused.get_json()["error"]["message"]
    )


def test_directives_registered_after_the_date_of_death_are_not_applied(app, staff_tokens):
    directives(app, "hand_over", trusted="lea@example.org")
    ref = new_case(
        app,
        "open",
        type_="post_mortem",
        details={**NOTICE, "requester_role": "designated_person", "date_of_death": "2020-01-01"},
        email="lea@example.org",
    )
    assert send(app.test_client(), status_of(app, ref), PDF).status_code == 303
    refused = decide(app, staff_tokens["handler"], ref)
    assert (
        refused.status_code == 409
        and "after the date of death" in refused.get_json()["error"]["message"]
    )
