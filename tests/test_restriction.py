"""Restriction (Art. 18): in force once every system has restricted the person, found in
the queue, lifted only after the person was told (Art. 18(3)) and the notice period."""

import copy
from datetime import timedelta

import pytest
from conftest import outbox_messages
from fixtures_answers import by_ref, case_url, kinds, manual_system
from fixtures_staff import bearer, english, get_request, new_case

from dsr import periodic, processing, restriction
from dsr.config import DEMO_CONFIG, load_instance
from dsr.extensions import db
from dsr.models.task import TaskStatus as T
from dsr.models.types import utcnow

DEMO = load_instance(str(DEMO_CONFIG))


@pytest.fixture
def app(make_app):
    config = copy.deepcopy(DEMO)
    config["connectors"] = {
        "crm": manual_system("CRM", "access", "restrict", "lift_restriction"),
        "billing": manual_system("Billing", "access"),
    }
    return make_app(INSTANCE=config)


def restricted(app, run_jobs) -> str:
    """A restriction request carried out: the CRM restricted, billing cannot (skipped)."""
    ref = new_case(app, "open", type_="restriction", details={"ground": "accuracy_contested"})
    with app.app_context():
        processing.start(by_ref(ref), actor="staff:h")
    run_jobs()
    with app.app_context():
        crm = next(t for t in by_ref(ref).tasks if t.connector == "crm")
        processing.record_outcome(crm, succeeded=True, note="flagged", actor="staff:h")
    return ref


def queue_refs(client, token, **params) -> list[str]:
    response = client.get("/api/v1/requests", headers=bearer(token), query_string=params)
    assert response.status_code == 200, response.get_json()
    return [item["ref"] for item in response.get_json()["items"]]


def test_the_restriction_is_in_force_and_found_in_the_queue(app, client, staff_tokens, run_jobs):
    ref = restricted(app, run_jobs)
    request = get_request(app, ref)
    assert request.status == "review" and request.restricted_at is not None
    assert {t.connector: t.status for t in request.tasks} == {
        "crm": T.SUCCEEDED,
        "billing": T.SKIPPED,
    }
    token = staff_tokens["viewer"]
    other = new_case(app, "open")
    assert queue_refs(client, token, restricted="true") == [ref]
    assert other in queue_refs(client, token)
    bad = client.get("/api/v1/requests?restricted=yes", headers=bearer(token))
    assert bad.status_code == 422 and "restricted" in bad.get_json()["error"]["fields"]
    assert "restriction.in_force" in kinds(app, ref)


def test_lifting_tells_the_person_first_then_asks_the_systems(
    app, client, staff_tokens, run_jobs, handler_client
):
    handler = bearer(staff_tokens["handler"])
    nothing = new_case(app, "open")
    url = f"/api/v1/requests/{nothing}/restriction/lift"
    assert client.post(url, headers=handler, json={"reason": "x"}).status_code == 409
    ref = restricted(app, run_jobs)
    url = f"/api/v1/requests/{ref}/restriction/lift"
    assert client.post(url, headers=handler, json={}).status_code == 422
    reason = "The accuracy of your address is now verified."
    response = client.post(url, headers=handler, json={"reason": reason})
    assert response.status_code == 200 and response.get_json()["restriction_lift_notified_at"]
    assert client.post(url, headers=handler, json={"reason": reason}).status_code == 409
    run_jobs()
    [notice] = [m for m in outbox_messages(app) if m["X-DSR-Template"] == "restriction_lift"]
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert reason in body and "18(3)" in body
    page = english(handler_client).get(case_url(ref)).get_data(as_text=True)
    assert "was told on" in page and "Tell the person it will be lifted" not in page

    with app.app_context():
        assert restriction.lift_due() == []  # the notice period is not over
        later = utcnow() + timedelta(days=15)
        [lift] = restriction.lift_due(later)
        assert (lift.connector, lift.action) == ("crm", "lift_restriction")
        assert restriction.lift_due(later) == []  # planned once
        processing.dispatch([lift])
    run_jobs()
    assert get_request(app, ref).restriction_lifted_at is None
    with app.app_context():
        lift = next(t for t in by_ref(ref).tasks if t.action == "lift_restriction")
        processing.record_outcome(lift, succeeded=True, note="unflagged", actor="staff:h")
    assert get_request(app, ref).restriction_lifted_at is not None
    assert queue_refs(client, staff_tokens["viewer"], restricted="true") == []
    events = kinds(app, ref)
    for kind in ("restriction.lift_announced", "restriction.lift_started", "restriction.lifted"):
        assert kind in events


def test_the_hourly_job_lifts_what_is_due(make_app, run_jobs):
    config = copy.deepcopy(DEMO)
    config["connectors"] = {"crm": manual_system("CRM", "restrict", "lift_restriction")}
    app = make_app(INSTANCE=config, RESTRICTION_LIFT_NOTICE_DAYS=0)
    ref = restricted(app, run_jobs)
    with app.app_context():
        restriction.announce_lift(by_ref(ref), "Verified.", actor="staff:h")
        db.session.commit()
        assert periodic.lift_restrictions_job() == 1
    run_jobs()
    lift = next(t for t in get_request(app, ref).tasks if t.action == "lift_restriction")
    assert lift.status == T.WAITING_CALLBACK
