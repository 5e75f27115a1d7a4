"""Review and release of an access answer: left out, release (page and API), the job,
the email, the download, and what goes wrong (withheld, twice, a broken result, old links)."""

import json
import threading
from datetime import timedelta

import pytest
from conftest import csrf_token, links_in_outbox, outbox_messages
from fixtures_answers import CRM, by_ref, case_url, in_review, kinds, press, write_results
from fixtures_staff import bearer, english, get_request, new_case, token_email
from pack_contents import letter_text, unzip
from sqlalchemy import select

from dsr import audit, results, signing
from dsr.extensions import db
from dsr.models import AuditEvent, DataRequest, WithheldAnswer
from dsr.processing import reconcile
from dsr.queue import redis_connection
from dsr.release import answer
from dsr.signing import Purpose

MASTER = "33" * 32


@pytest.fixture
def app(make_app):
    return make_app(DSR_DATA_KEY=MASTER)


def press_release(client, ref: str):
    return press(client, ref, "release")


def test_release_from_the_page_mails_a_link_in_the_language_and_completes(
    app, handler_client, run_jobs
):
    ref = in_review(app, language="fr")
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Release the answer" in page and "invoices" in page and "contacts" in page
    response = press_release(handler_client, ref)
    assert response.status_code == 303
    assert get_request(app, ref).status == "review"  # until the job has run
    run_jobs()
    req = get_request(app, ref)
    assert req.status == "completed" and req.released_at is not None
    [mail] = [m for m in outbox_messages(app) if m["X-DSR-Template"] == "answer_ready"]
    assert mail["Content-Language"] == "fr" and mail["To"] == "alice@example.org"
    assert "Notre réponse" in mail["Subject"]
    [link] = links_in_outbox(app, "/download/")
    client = app.test_client()
    download = client.get(
        link.removeprefix("http://dsr.test"), environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert download.headers["Content-Disposition"] == f'attachment; filename="{ref}.zip"'
    archive = unzip(download.get_data())
    names = archive.namelist()
    assert {"manifest.json", "data.json", "access-report.docx"} <= set(names)
    assert json.loads(archive.read("manifest.json"))["reference"] == ref
    data = json.loads(archive.read("data.json"))
    assert "Alice Martin" in json.dumps(data) and "F-0001" in json.dumps(data)
    events = kinds(app, ref)
    for kind in ("release.requested", "export.built", "release.done", "mail.sent"):
        assert kind in events
    with app.app_context():
        downloaded = db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "export.downloaded")
        ).one()
        assert downloaded.actor == "subject" and downloaded.data["client"] == "192.0.2.7"
        assert audit.verify_chain().ok


def test_release_through_the_api_answers_202_and_the_export_needs_a_handler(
    app, client, staff_tokens, run_jobs
):
    ref = in_review(app)
    url = f"/api/v1/requests/{ref}/release"
    assert client.post(url, headers=bearer(staff_tokens["viewer"])).status_code == 403
    response = client.post(url, headers=bearer(staff_tokens["handler"]))
    assert response.status_code == 202
    assert response.get_json()["release_requested_at"] and response.get_json()["status"] == "review"
    export = f"/api/v1/requests/{ref}/export"
    missing = client.get(export, headers=bearer(staff_tokens["handler"]))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "no_pack"
    run_jobs()
    assert get_request(app, ref).status == "completed"
    assert client.get(export, headers=bearer(staff_tokens["viewer"])).status_code == 403
    assert client.get(export).status_code == 401
    for role in ("handler", "admin"):
        pack = client.get(export, headers=bearer(staff_tokens[role]))
        assert pack.status_code == 200 and pack.mimetype == "application/zip"
        assert "manifest.json" in unzip(pack.get_data()).namelist()
    again = client.post(url, headers=bearer(staff_tokens["handler"]))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_in_review"


def test_left_out_table_and_record_are_absent_and_listed_in_the_letter(
    app, handler_client, run_jobs
):
    ref = in_review(app)
    url = f"{case_url(ref)}/left-out"
    for form in (
        {"connector": "crm", "table": "contacts", "record": "2", "reason": "Bob's own words"},
        {"connector": "crm", "table": "notes", "record": "", "reason": "A third party's notes"},
        {"connector": "billing", "table": "invoices", "record": "", "reason": "put back later"},
    ):
        token = csrf_token(handler_client, case_url(ref))
        assert handler_client.post(url, data={**form, "csrf_token": token}).status_code == 303
    refused = {"connector": "crm", "table": "contacts", "record": "9", "reason": "x"}
    token = csrf_token(handler_client, case_url(ref))
    handler_client.post(url, data={**refused, "csrf_token": token})
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "has no record 8" in page  # shown as the pack names it, 0-based
    assert "Bob&#39;s own words" in page and "A third party&#39;s notes" in page
    token = csrf_token(handler_client, case_url(ref))
    undo = handler_client.post(f"{url}/2/undo", data={"csrf_token": token})
    assert undo.status_code == 303
    assert len(get_request(app, ref).left_out) == 2
    press_release(handler_client, ref)
    run_jobs()
    pack = handler_client.get(f"{case_url(ref)}/export")
    assert pack.status_code == 200
    archive = unzip(pack.get_data())
    data = json.dumps(json.loads(archive.read("data.json")))
    assert "Alice Martin" in data and "F-0001" in data
    assert "Bob's note about Alice" not in data and "called, asked" not in data
    assert not any("notes" in name for name in archive.namelist())
    letter = letter_text(archive)
    assert "Bob's own words" in letter and "A third party's notes" in letter
    assert "put back later" not in letter
    events = kinds(app, ref)
    assert events.count("release.left_out") == 3 and "release.left_out_undone" in events
    assert "export.downloaded" in events


def test_release_is_refused_outside_review_and_while_a_withheld_answer_waits(
    app, client, staff_tokens
):
    handler = bearer(staff_tokens["handler"])
    ref = new_case(app, "processing")
    response = client.post(f"/api/v1/requests/{ref}/release", headers=handler)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_in_review"
    ref = in_review(app)
    with app.app_context():
        task = by_ref(ref).tasks[0]
        db.session.add(WithheldAnswer(task_id=task.id, record_counts={"x": 1}, mismatched=1))
        db.session.commit()
    response = client.post(f"/api/v1/requests/{ref}/release", headers=handler)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "withheld_pending"
    assert get_request(app, ref).release_requested_at is None


def test_two_presses_build_and_send_one_pack(app, handler_client, staff_tokens, run_jobs):
    ref = in_review(app)
    press_release(handler_client, ref)
    second = app.test_client().post(
        f"/api/v1/requests/{ref}/release", headers=bearer(staff_tokens["handler"])
    )
    assert second.status_code == 202
    with app.app_context():
        answer.enqueue_release(by_ref(ref).id)  # a stray duplicate job as well
    run_jobs()
    with app.app_context():
        assert answer.release_job(by_ref(ref).id) == "nothing"
    assert kinds(app, ref).count("export.built") == 1
    assert kinds(app, ref).count("release.requested") == 1
    assert len([m for m in outbox_messages(app) if m["X-DSR-Template"] == "answer_ready"]) == 1


def test_two_threads_releasing_at_once_ask_once(app):
    ref = in_review(app)
    with app.app_context():
        request_id = by_ref(ref).id
    outcomes, barrier = [], threading.Barrier(2)

    def press():
        with app.app_context():
            barrier.wait()
            outcomes.append(
                answer.request_release(db.session.get(DataRequest, request_id), actor="t")
            )
            db.session.commit()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, True]
    with app.app_context():
        assert answer.release_job(request_id) == "released"
        assert answer.release_job(request_id) == "nothing"
    assert kinds(app, ref).count("export.built") == 1


def test_a_broken_result_keeps_review_with_the_error_and_a_second_release_works(
    app, handler_client, run_jobs
):
    ref = in_review(app)
    with app.app_context():
        crm = next(task for task in by_ref(ref).tasks if task.connector == "crm")
        path = results.task_folder(crm) / results.file_name("notes")
    raw = bytearray(path.read_bytes())
    raw[40] ^= 1
    path.write_bytes(raw)
    press_release(handler_client, ref)
    run_jobs()
    req = get_request(app, ref)
    assert req.status == "review" and "crm, table notes" in req.release_error
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "The answer could not be built" in page and "Release the answer" in page
    assert not links_in_outbox(app, "/download/")
    with app.app_context():
        crm = next(task for task in by_ref(ref).tasks if task.connector == "crm")
        write_results(crm, CRM)
    press_release(handler_client, ref)
    run_jobs()
    req = get_request(app, ref)
    assert req.status == "completed" and req.release_error is None
    assert len(links_in_outbox(app, "/download/")) == 1
    assert "release.failed" in kinds(app, ref)


def test_reconciliation_enqueues_again_a_release_whose_job_was_lost(app, run_jobs):
    ref = in_review(app)
    with app.app_context():
        req = by_ref(ref)
        assert answer.request_release(req, actor="handler@example.org")
        req.release_requested_at -= timedelta(hours=1)
        db.session.commit()  # and no job: the worker died before it was queued
        assert reconcile()["releases"] == 1
        assert reconcile()["releases"] == 0  # its job is queued now
    run_jobs()
    assert get_request(app, ref).status == "completed"


def test_reconciliation_clears_the_lock_a_dead_build_left(app, run_jobs):
    """A worker killed mid-build keeps its Redis lock for the time limit: the job queued
    again would find it taken and do nothing, were it not cleared."""
    ref = in_review(app)
    with app.app_context():
        req = by_ref(ref)
        assert answer.request_release(req, actor="handler@example.org")
        req.release_requested_at -= timedelta(hours=2)
        db.session.commit()
        dead = redis_connection().lock(answer.lock_name(req.id), timeout=answer.RELEASE_TIMEOUT)
        assert dead.acquire(blocking=False)
        assert answer.release_job(req.id) == "nothing"  # as long as the lock is there
        assert reconcile()["releases"] == 1
    run_jobs()
    assert get_request(app, ref).status == "completed"
    assert kinds(app, ref).count("export.built") == 1


def released(app, run_jobs) -> str:
    ref = in_review(app)
    with app.app_context():
        answer.request_release(by_ref(ref), actor="handler@example.org")
        db.session.commit()
        answer.enqueue_release(by_ref(ref).id)
    run_jobs()
    return ref


def test_status_page_shows_the_download_while_the_pack_is_there(app, run_jobs):
    ref = released(app, run_jobs)
    client = english(app.test_client())
    with app.app_context():
        status = signing.sign(Purpose.STATUS, by_ref(ref).id)
    page = client.get(f"/status/{status}").get_data(as_text=True)
    assert "Download the answer (ZIP)" in page and "Our answer is ready to download" in page
    link = page.split('href="/download/')[1].split('"')[0]
    assert client.get(f"/download/{link}").status_code == 200


def test_tampered_and_unknown_download_links_get_a_clear_page(app, run_jobs):
    ref = released(app, run_jobs)
    client = english(app.test_client())
    [link] = links_in_outbox(app, "/download/")
    path = link.removeprefix("http://dsr.test")
    tampered = client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 400 and "This link is not valid" in tampered.get_data(
        as_text=True
    )
    assert "status page" in tampered.get_data(as_text=True)
    with app.app_context():
        unknown = signing.sign(Purpose.DOWNLOAD, 987654)
        other = signing.sign(Purpose.STATUS, by_ref(ref).id)
    page = client.get(f"/download/{unknown}")
    assert page.status_code == 404 and "This answer is not available" in page.get_data(as_text=True)
    assert client.get(f"/download/{other}").status_code == 400  # a status link is no download link
    french = app.test_client()
    french.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    page = french.get(f"/download/{unknown}").get_data(as_text=True)
    assert "Cette réponse n’est pas disponible" in page


def test_expired_download_link_says_how_to_get_a_new_one(make_app, run_jobs):
    app = make_app(DSR_DATA_KEY=MASTER, DOWNLOAD_LINK_MAX_AGE=-1)
    ref = released(app, lambda: run_jobs(app))
    [link] = links_in_outbox(app, "/download/")
    for language, words in (("en", "This link has expired"), ("fr", "Ce lien a expiré")):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        page = client.get(link.removeprefix("http://dsr.test"))
        assert page.status_code == 410 and words in page.get_data(as_text=True)
    assert "export.downloaded" not in kinds(app, ref)


def test_a_viewer_cannot_fetch_the_pack_from_the_case_page(app, viewer_client, run_jobs):
    ref = released(app, run_jobs)
    assert viewer_client.get(f"{case_url(ref)}/export").status_code == 403
    assert "Download the answer pack" not in viewer_client.get(case_url(ref)).get_data(as_text=True)


def test_the_openapi_document_describes_release_and_export(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "202" in paths["/requests/{ref}/release"]["post"]["responses"]
    assert (
        "application/zip" in paths["/requests/{ref}/export"]["get"]["responses"]["200"]["content"]
    )


def left_out_url(ref: str, number: int | None = None) -> str:
    return f"/api/v1/requests/{ref}/left-out" + ("" if number is None else f"/{number}")


def test_left_out_through_the_api_as_on_the_case_page(
    app, client, staff_tokens, handler_client, run_jobs
):
    ref = in_review(app)
    handler = bearer(staff_tokens["handler"])
    for body in (
        {"connector": "crm", "table": "contacts", "record": 2, "reason": "Bob's own words"},
        {"connector": "crm", "table": "notes", "reason": "A third party's notes"},
        {"connector": "billing", "table": "invoices", "record": None, "reason": "put back"},
    ):
        response = client.post(left_out_url(ref), json=body, headers=handler)
        assert response.status_code == 201, response.get_json()
    entries = response.get_json()["left_out"]
    assert response.get_json()["ref"] == ref
    assert [(e["number"], e["connector"], e["table"], e["record"]) for e in entries] == [
        (1, "crm", "contacts", 2),
        (2, "crm", "notes", None),
        (3, "billing", "invoices", None),
    ]
    assert entries[0]["reason"] == "Bob's own words"
    assert entries[0]["by"] == "staff:" + token_email("handler") and entries[0]["at"]
    assert get_request(app, ref).left_out[0]["record"] == 1  # stored as the pack names it
    undone = client.delete(left_out_url(ref, 3), headers=handler)
    assert undone.status_code == 200 and len(undone.get_json()["left_out"]) == 2
    assert client.get(left_out_url(ref), headers=handler).get_json() == undone.get_json()
    page = handler_client.get(case_url(ref)).get_data(as_text=True)
    assert "Bob&#39;s own words" in page  # the case page lists the same entries
    assert kinds(app, ref).count("release.left_out") == 3
    assert "release.left_out_undone" in kinds(app, ref)
    client.post(f"/api/v1/requests/{ref}/release", headers=handler)
    run_jobs()
    pack = unzip(client.get(f"/api/v1/requests/{ref}/export", headers=handler).get_data())
    data = json.dumps(json.loads(pack.read("data.json")))
    assert "Alice Martin" in data and "F-0001" in data
    assert "Bob's note about Alice" not in data and "called, asked" not in data
    letter = letter_text(pack)
    assert "Bob's own words" in letter and "put back" not in letter


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"table": "contacts", "reason": "x"}, ["connector"]),
        ({"connector": "crm", "table": "contacts", "reason": "  "}, ["reason"]),
        ({"connector": "crm", "table": "contacts", "reason": "x" * 1001}, ["reason"]),
        ({"connector": "crm", "table": "contacts", "reason": "a\nb"}, ["reason"]),
        ({"connector": "crm", "table": "contacts", "record": 0, "reason": "x"}, ["record"]),
        ({"connector": "crm", "table": "contacts", "record": "2", "reason": "x"}, ["record"]),
        ({"connector": "crm", "table": "contacts", "record": 1.5, "reason": "x"}, ["record"]),
        ({"connector": "crm", "table": "contacts", "reason": "x", "by": "me"}, ["by"]),
        ({"connector": "crm", "table": "contacts", "record": 3, "reason": "x"}, ["_schema"]),
        ({"connector": "crm", "table": "nothing", "reason": "x"}, ["_schema"]),
        ({"connector": "nobody", "table": "contacts", "reason": "x"}, ["_schema"]),
        (["crm", "contacts"], None),
    ],
)
def test_a_left_out_body_that_is_wrong_gets_422_with_its_fields(
    app, client, staff_tokens, body, fields
):
    ref = in_review(app)
    response = client.post(left_out_url(ref), json=body, headers=bearer(staff_tokens["handler"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and error["message"]
    if fields is not None:
        assert sorted(error["fields"]) == fields
    assert get_request(app, ref).left_out in (None, [])
    assert "release.left_out" not in kinds(app, ref)


def test_left_out_needs_a_handler_and_a_request_in_review(app, client, staff_tokens):
    ref, client = in_review(app), english(client)
    body = {"connector": "crm", "table": "notes", "reason": "A third party's notes"}
    viewer, handler = bearer(staff_tokens["viewer"]), bearer(staff_tokens["handler"])
    assert client.get(left_out_url(ref)).status_code == 401
    assert client.get(left_out_url(ref), headers=viewer).status_code == 403
    assert client.post(left_out_url(ref), json=body, headers=viewer).status_code == 403
    assert client.delete(left_out_url(ref, 1), headers=viewer).status_code == 403
    assert client.get(left_out_url("DSR-2020-999999"), headers=handler).status_code == 404
    admin = bearer(staff_tokens["admin"])
    assert client.post(left_out_url(ref), json=body, headers=admin).status_code == 201
    again = client.post(left_out_url(ref), json=body, headers=handler)
    assert again.status_code == 422 and "already left out" in again.get_json()["error"]["message"]
    missing = client.delete(left_out_url(ref, 2), headers=handler)
    assert missing.status_code == 422 and missing.get_json()["error"]["fields"]
    assert client.delete(left_out_url(ref, 0), headers=handler).status_code == 422
    assert client.post(f"/api/v1/requests/{ref}/release", headers=handler).status_code == 202
    under_way = client.delete(left_out_url(ref, 1), headers=handler)
    assert under_way.status_code == 409
    assert under_way.get_json()["error"]["code"] == "release_in_progress"
    processing = new_case(app, "processing")
    refused = client.post(left_out_url(processing), json=body, headers=handler)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_in_review"
    assert len(client.get(left_out_url(ref), headers=handler).get_json()["left_out"]) == 1


def test_the_openapi_document_describes_left_out(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/requests/{ref}/left-out"]) == {"get", "post"}
    assert "201" in paths["/requests/{ref}/left-out"]["post"]["responses"]
    assert "409" in paths["/requests/{ref}/left-out/{number}"]["delete"]["responses"]
    body = document["components"]["schemas"]["NewLeftOut"]
    assert set(body["properties"]) == {"connector", "table", "record", "reason"}
    assert sorted(body["required"]) == ["connector", "reason", "table"]
