"""The other rights planned from the register: what each system is told, the handler's
decisions that come first (rectification, objection on grounds of a situation), and the
answers that go out by themselves (direct-marketing objection, consent withdrawal)."""

import copy
import json

import pytest
from conftest import csrf_token, outbox_messages
from fixtures_answers import by_ref, case_url, kinds, manual_system
from fixtures_staff import bearer, english, get_request, new_case
from sqlalchemy import select

from dsr import audit, decisions, processing, signing
from dsr.config import DEMO_CONFIG, load_instance
from dsr.extensions import db
from dsr.models import Suppression
from dsr.models.task import TaskStatus as T
from dsr.operations import transition_to
from dsr.signing import Purpose
from dsr.status import RequestStatus

DEMO = load_instance(str(DEMO_CONFIG))
EVERY_ACTION = ["access", "erase", "rectify", "restrict", "object", "withdraw_consent"]


@pytest.fixture
def app(make_app):
    config = copy.deepcopy(DEMO)
    config["connectors"] = {
        "crm": manual_system("CRM", *EVERY_ACTION),
        "billing": manual_system("Billing", "access", "erase", "rectify"),
        "sms": manual_system("SMS platform", *EVERY_ACTION),
    }
    return make_app(INSTANCE=config)


def tasks_of(app, ref) -> dict[str, tuple[str, str, dict]]:
    """connector -> (action, status, details)."""
    return {t.connector: (t.action, t.status, t.details) for t in get_request(app, ref).tasks}


def start(app, ref, run_jobs) -> None:
    """Start as a handler, and let the worker hand each task to its (manual) system."""
    with app.app_context():
        processing.start(by_ref(ref), actor="staff:h@example.org")
    run_jobs()


def test_erasure_tells_each_system_what_a_legal_hold_keeps(app, run_jobs):
    ref = new_case(app, "open", type_="erasure", details={"ground": "no_longer_necessary"})
    start(app, ref, run_jobs)
    planned = tasks_of(app, ref)
    assert planned["crm"] == ("erase", T.WAITING_CALLBACK, {"keep": []})
    assert planned["billing"][0] == "erase"
    assert planned["billing"][2] == {
        "keep": ["customers.name", "customers.billing_address", "invoices", "payments"]
    }


def test_restriction_restricts_everywhere_and_skips_a_system_that_cannot(app, run_jobs):
    ref = new_case(app, "open", type_="restriction", details={"ground": "accuracy_contested"})
    start(app, ref, run_jobs)
    planned = tasks_of(app, ref)
    assert planned["crm"][:2] == ("restrict", T.WAITING_CALLBACK)
    assert planned["billing"][:2] == ("restrict", T.SKIPPED)
    with app.app_context():
        [billing] = [t for t in by_ref(ref).tasks if t.connector == "billing"]
        assert billing.outcome == "this system does not support 'restrict'"


def test_a_direct_marketing_objection_starts_at_once_on_the_marketing_systems(app, run_jobs):
    ref = new_case(app, "open", type_="objection", details={"basis": "direct_marketing"})
    with app.app_context():
        assert processing.starts_itself(by_ref(ref))
    start(app, ref, run_jobs)
    planned = tasks_of(app, ref)
    assert planned["crm"] == (
        "object",
        T.WAITING_CALLBACK,
        {"activities": ["email_newsletter"], "direct_marketing": True},
    )
    assert planned["sms"][2] == {"activities": ["sms_promotions"], "direct_marketing": True}
    assert "billing" not in planned  # runs no marketing


def test_a_consent_withdrawal_concerns_only_the_named_consent_activities(app, run_jobs):
    details = {"purposes": ["sms_promotions", "les appels du dimanche"]}
    ref = new_case(app, "open", type_="consent_withdrawal", details=details)
    start(app, ref, run_jobs)
    assert tasks_of(app, ref) == {
        "sms": ("withdraw_consent", T.WAITING_CALLBACK, {"activities": ["sms_promotions"]})
    }


def test_the_answer_of_a_right_applied_at_once_goes_out_by_itself(app, run_jobs):
    ref = new_case(
        app, "open", type_="consent_withdrawal", details={"purposes": ["sms_promotions"]}
    )
    start(app, ref, run_jobs)
    with app.app_context():
        [task] = by_ref(ref).tasks
        processing.record_outcome(task, succeeded=True, note="opted out", actor="staff:h")
    request = get_request(app, ref)
    assert request.status == "review" and request.release_requested_by == "system"
    run_jobs()
    assert get_request(app, ref).status == "completed"
    [mail] = [m for m in outbox_messages(app) if m["X-DSR-Template"] == "answer_ready"]
    assert "data.json" not in mail.get_body(preferencelist=("plain",)).get_content()
    assert "release.done" in kinds(app, ref)


def test_a_failed_task_keeps_the_answer_for_a_handler(app, run_jobs):
    ref = new_case(
        app, "open", type_="consent_withdrawal", details={"purposes": ["sms_promotions"]}
    )
    start(app, ref, run_jobs)
    with app.app_context():
        [task] = by_ref(ref).tasks
        processing.record_outcome(task, succeeded=False, note="number unknown", actor="staff:h")
    run_jobs()
    request = get_request(app, ref)
    assert request.status == "review" and request.release_requested_at is None


RECTIFICATION = {
    "changes": [
        {"field": "postal address", "current_value": "1 rue A", "corrected_value": "2 rue B"},
        {"field": "date of birth", "corrected_value": "1990-01-01"},
    ]
}


def test_a_rectification_starts_once_each_change_is_decided(app, run_jobs, client, staff_tokens):
    handler = bearer(staff_tokens["handler"])
    ref = new_case(app, "open", type_="rectification", details=RECTIFICATION)
    api = f"/api/v1/requests/{ref}"
    refused = client.post(f"{api}/start", headers=handler)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "decision_needed"
    accept = {"accepted": True, "fields": ["crm.contacts.postal_address", "billing.customers.x"]}
    unknown = client.post(f"{api}/changes/1/decision", headers=handler, json=accept)
    assert (
        unknown.status_code == 409
        and "billing.customers.x" in unknown.get_json()["error"]["message"]
    )
    bad = client.post(f"{api}/changes/1/decision", headers=handler, json={"fields": []})
    assert bad.status_code == 422 and "accepted" in bad.get_json()["error"]["fields"]
    accept["fields"] = ["crm.contacts.postal_address", "billing.customers.billing_address"]
    assert client.post(f"{api}/changes/1/decision", headers=handler, json=accept).status_code == 200
    no_reason = client.post(f"{api}/changes/2/decision", headers=handler, json={"accepted": False})
    assert no_reason.status_code == 409
    refuse = {"accepted": False, "reason": "We hold no date of birth."}
    done = client.post(f"{api}/changes/2/decision", headers=handler, json=refuse)
    assert done.status_code == 200 and done.get_json()["decisions"]["changes"][1]["reason"]
    assert client.post(f"{api}/changes/3/decision", headers=handler, json=refuse).status_code == 409
    assert client.post(f"{api}/start", headers=handler).status_code == 200
    run_jobs()
    change = {"old": "1 rue A", "new": "2 rue B"}
    assert tasks_of(app, ref) == {
        "crm": (
            "rectify",
            T.WAITING_CALLBACK,
            {"changes": [{"field": "contacts.postal_address", **change}]},
        ),
        "billing": (
            "rectify",
            T.WAITING_CALLBACK,
            {"changes": [{"field": "customers.billing_address", **change}]},
        ),
    }
    assert kinds(app, ref).count("decision.change") == 2
    late = client.post(f"{api}/changes/2/decision", headers=handler, json=refuse)
    assert late.status_code == 409  # decided while open only


def test_an_objection_on_a_situation_waits_for_the_handlers_decision(app, run_jobs, handler_client):
    english(handler_client)
    details = {"basis": "particular_situation", "processing": "support", "grounds": "moved"}
    ref = new_case(app, "open", type_="objection", details=details)
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Record whether the objection is upheld before starting." in page
    assert "customer_support" in page and "email_newsletter" not in page.split("decisions")[1]
    token = csrf_token(handler_client, case_url(ref))
    handler_client.post(f"{case_url(ref)}/start", data={"csrf_token": token})
    assert get_request(app, ref).status == "open"
    token = csrf_token(handler_client, case_url(ref))
    form = {
        "csrf_token": token,
        "upheld": "yes",
        "activities": ["customer_support"],
        "reasoning": "Her situation prevails.",
    }
    assert handler_client.post(f"{case_url(ref)}/objection/decision", data=form).status_code == 303
    start(app, ref, run_jobs)
    assert tasks_of(app, ref) == {
        "crm": (
            "object",
            T.WAITING_CALLBACK,
            {"activities": ["customer_support"], "direct_marketing": False},
        )
    }


def test_an_objection_not_upheld_asks_no_system(app, run_jobs, client, staff_tokens):
    handler = bearer(staff_tokens["handler"])
    details = {"basis": "particular_situation", "processing": "fraud checks", "grounds": "x"}
    ref = new_case(app, "open", type_="objection", details=details)
    body = {"upheld": False, "reasoning": "Fraud prevention protects every customer."}
    url = f"/api/v1/requests/{ref}/objection/decision"
    assert client.post(url, headers=bearer(staff_tokens["viewer"]), json=body).status_code == 403
    assert client.post(url, headers=handler, json=body).status_code == 200
    start(app, ref, run_jobs)
    request = get_request(app, ref)
    assert request.tasks == [] and request.status == "review"
    assert request.decisions["objection"]["upheld"] is False
    with app.app_context():
        db.session.rollback()


def erase_everywhere(app, run_jobs, email="alice@example.org") -> str:
    ref = new_case(app, "open", type_="erasure", email=email)
    start(app, ref, run_jobs)
    with app.app_context():
        for task in by_ref(ref).tasks:
            processing.record_outcome(task, succeeded=True, note="erased", actor="staff:h")
    return ref


def test_a_carried_out_erasure_leaves_suppression_records_that_name_nobody(
    app, client, staff_tokens, run_jobs, handler_client
):
    ref = erase_everywhere(app, run_jobs)
    with app.app_context():
        rows = db.session.scalars(select(Suppression)).all()
        assert [(row.kind, row.request_ref) for row in rows] == [("email", ref)]
        assert "alice" not in rows[0].digest and len(rows[0].digest) == 64
    assert "suppression.recorded" in kinds(app, ref)
    check = "/api/v1/suppressions/check"
    found = client.post(
        check, headers=bearer(staff_tokens["handler"]), json={"email": " Alice@Example.ORG "}
    )
    assert found.status_code == 200 and found.get_json()["suppressed"] is True
    assert found.get_json()["records"][0]["request_ref"] == ref
    other = client.post(check, headers=bearer(staff_tokens["handler"]), json={"email": "b@x.org"})
    assert other.get_json() == {"suppressed": False, "records": []}
    empty = client.post(check, headers=bearer(staff_tokens["handler"]), json={})
    assert empty.status_code == 422
    runner = app.test_cli_runner()
    result = runner.invoke(args=["dsr", "suppression", "check", "--email", "alice@example.org"])
    assert result.exit_code == 1 and ref in result.output
    clean = runner.invoke(args=["dsr", "suppression", "check", "--email", "b@example.org"])
    assert clean.exit_code == 0 and "not erased" in clean.output
    later = new_case(app, "processing", email="alice@example.org")
    page = english(handler_client).get(case_url(later)).get_data(as_text=True)
    assert f"erased before ({ref})" in page


def test_an_erasure_that_failed_somewhere_records_no_suppression(app, run_jobs):
    ref = new_case(app, "open", type_="erasure")
    start(app, ref, run_jobs)
    with app.app_context():
        first, *others = by_ref(ref).tasks
        processing.record_outcome(first, succeeded=False, note="locked", actor="staff:h")
        for task in others:
            processing.record_outcome(task, succeeded=True, note="erased", actor="staff:h")
        assert db.session.scalars(select(Suppression)).all() == []


def test_recipients_with_a_notify_address_are_told_once_the_work_is_done(app, run_jobs):
    ref = erase_everywhere(app, run_jobs)
    run_jobs()
    [notice] = [m for m in outbox_messages(app) if m["X-DSR-Template"] == "recipient_notice"]
    assert notice["To"] == "dpo@facturation-demo.example"
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert "Article 19" in body and "alice@example.org" in body and "erase them" in body
    with app.app_context():
        [event] = [e for e in audit.events_for(by_ref(ref).id) if e.kind == "recipients.notified"]
        assert (event.data["count"], event.data["domains"]) == (1, ["facturation-demo.example"])
        assert "dpo@" not in json.dumps(event.data)  # the address only as a hash
        status = f"/status/{signing.sign(Purpose.STATUS, by_ref(ref).id)}"
    page = english(app.test_client()).get(status).get_data(as_text=True)
    assert "We told a recipient of your data to do the same (Art. 19)." in page
    assert "organisation you named" not in page


def test_a_rectification_notice_carries_the_accepted_corrections_only(app, run_jobs):
    ref = new_case(app, "open", type_="rectification", details=RECTIFICATION)
    with app.app_context():
        request = by_ref(ref)
        decisions.decide_change(
            request, 0, accepted=True, fields=["billing.customers.billing_address"], actor="h"
        )
        decisions.decide_change(request, 1, accepted=False, reason="No such data.", actor="h")
        db.session.commit()
    start(app, ref, run_jobs)
    with app.app_context():
        for task in by_ref(ref).tasks:
            processing.record_outcome(task, succeeded=True, note="corrected", actor="staff:h")
    run_jobs()
    [notice] = [m for m in outbox_messages(app) if m["X-DSR-Template"] == "recipient_notice"]
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert "postal address: 2 rue B" in body and "1990-01-01" not in body


def run_again(app, ref) -> None:
    """As "run again" does: back to processing, then every task finished: review again."""
    with app.app_context():
        request = by_ref(ref)
        transition_to(request, RequestStatus.PROCESSING, actor="staff:h", reason="again")
        processing.finish_if_done(request)
        db.session.commit()


def test_effects_are_not_repeated_when_the_tasks_run_again(app, run_jobs):
    ref = new_case(app, "open", type_="restriction", details={"ground": "accuracy_contested"})
    start(app, ref, run_jobs)
    with app.app_context():
        for task in by_ref(ref).tasks:
            if task.status == T.WAITING_CALLBACK:
                processing.record_outcome(task, succeeded=True, note="done", actor="staff:h")
    first = get_request(app, ref).restricted_at
    run_again(app, ref)
    assert get_request(app, ref).restricted_at == first
    erased = erase_everywhere(app, run_jobs)
    run_again(app, erased)
    assert kinds(app, erased).count("recipients.notified") == 1


def test_a_recipient_of_a_system_that_did_nothing_is_not_told(app, run_jobs):
    ref = new_case(app, "open", type_="erasure")
    start(app, ref, run_jobs)
    with app.app_context():
        for task in by_ref(ref).tasks:
            note = "no data" if task.connector == "billing" else "erased"
            processing.record_outcome(task, succeeded=True, note=note, actor="staff:h")
    assert "recipients.notified" not in kinds(app, ref)  # billing's provider had nothing


def test_a_recipient_hears_only_of_the_corrections_of_data_it_received(app, run_jobs):
    ref = new_case(app, "open", type_="rectification", details=RECTIFICATION)
    with app.app_context():
        request = by_ref(ref)
        decisions.decide_change(
            request, 0, accepted=True, fields=["crm.contacts.postal_address"], actor="h"
        )
        decisions.decide_change(
            request, 1, accepted=True, fields=["billing.customers.name"], actor="h"
        )
        db.session.commit()
    start(app, ref, run_jobs)
    with app.app_context():
        for task in by_ref(ref).tasks:
            processing.record_outcome(task, succeeded=True, note="corrected", actor="staff:h")
    run_jobs()
    [notice] = [m for m in outbox_messages(app) if m["X-DSR-Template"] == "recipient_notice"]
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert "date of birth: 1990-01-01" in body and "2 rue B" not in body  # billing's only
