"""Post-mortem directives of a living person (Loi 78-17 Art. 85): registered once the email
is confirmed, confirmed by email, read and revoked from the status link, replaced by newer
ones; a death notice waits for a handler."""

from conftest import csrf_token, links_in_outbox, outbox_messages
from fixtures_answers import by_ref, kinds
from fixtures_staff import get_request
from sqlalchemy import select

from dsr import directives
from dsr.extensions import db
from dsr.models import Directive

DIRECTIVES = {
    "mode": "directives",
    "directive": "hand_over",
    "trusted_person_name": "Léa Durand",
    "trusted_person_email": "lea.durand@example.org",
    "instructions": "Give her my photos.\nErase the rest.",
}


def submit(app, run_jobs, details, email="camille@example.org") -> tuple[str, str]:
    """Submit and confirm a post-mortem request; its reference and its status page path."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    payload = {"type": "post_mortem", "email": email, "name": "Camille Durand", "details": details}
    created = client.post("/api/v1/requests", json={**payload, "language": "en"})
    assert created.status_code == 201, created.get_json()
    ref = created.get_json()["ref"]
    run_jobs()
    verify = links_in_outbox(app, "/verify/")[-1].split("://", 1)[1].split("/", 1)[1]
    confirmed = client.post(f"/{verify}", data={"csrf_token": csrf_token(client, f"/{verify}")})
    assert confirmed.status_code == 303
    return ref, confirmed.headers["Location"]


def test_directives_are_registered_read_and_revoked(app, client, run_jobs):
    ref, status = submit(app, run_jobs, DIRECTIVES)
    request = get_request(app, ref)
    assert request.status == "completed" and request.tasks == []
    with app.app_context():
        registered = directives.in_force("Camille@Example.org")
        assert (registered.directive, registered.trusted_person_email) == (
            "hand_over",
            "lea.durand@example.org",
        )
    run_jobs()
    assert [m for m in outbox_messages(app) if m["X-DSR-Template"] == "directives_registered"]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(status).get_data(as_text=True)
    assert "Your directives" in page and "Léa Durand" in page and "Give her my photos." in page
    assert "Hand my data over to a person I designate" in page
    token = csrf_token(client, status)
    unconfirmed = client.post(f"{status}/directives/revoke", data={"csrf_token": token})
    assert unconfirmed.status_code == 400
    revoked = client.post(
        f"{status}/directives/revoke", data={"csrf_token": token, "confirm": "yes"}
    )
    assert revoked.status_code == 303
    page = client.get(status).get_data(as_text=True)
    assert "Revoked on" in page and "Revoke my directives" not in page
    again = client.post(f"{status}/directives/revoke", data={"csrf_token": token, "confirm": "yes"})
    assert again.status_code == 409
    with app.app_context():
        assert directives.in_force("camille@example.org") is None
    run_jobs()
    assert [m for m in outbox_messages(app) if m["X-DSR-Template"] == "directives_revoked"]
    assert {"directives.registered", "directives.revoked"} <= set(kinds(app, ref))


def test_newer_directives_replace_the_earlier_ones(app, client, run_jobs):
    first, first_status = submit(app, run_jobs, DIRECTIVES)
    second, _status = submit(app, run_jobs, {"mode": "directives", "directive": "erase"})
    with app.app_context():
        rows = db.session.scalars(select(Directive).order_by(Directive.id)).all()
        assert [(r.directive, r.revoked_because) for r in rows] == [
            ("hand_over", "replaced"),
            ("erase", None),
        ]
        assert directives.in_force("camille@example.org").request_id == by_ref(second).id
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Replaced on" in client.get(first_status).get_data(as_text=True)


def test_a_death_notice_waits_for_a_handler(app, run_jobs):
    notice = {
        "mode": "death_notice",
        "requester_role": "heir",
        "deceased_name": "Jean Durand",
        "date_of_death": "2026-10-01",
    }
    ref, _status = submit(app, run_jobs, notice, email="heir@example.org")
    assert get_request(app, ref).status == "open"
