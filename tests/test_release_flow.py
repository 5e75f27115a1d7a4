"""The access answer end to end, against the demo systems running as real processes:
from the subject's form through review, a handler's release, the jobs, the email,
to the ZIP she downloads, taken apart and compared with what each system returned;
and a `flask dsr worker` killed while it builds the pack.
"""

import json
import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from zipfile import ZipFile

import pytest
from access_steps import select_ref, submit_and_confirm, tasks_of, wait_for_status
from conftest import csrf_token, links_in_outbox, outbox_messages
from fixtures_staff import bearer, login
from flask_babel import force_locale, gettext
from pack_contents import as_cell, checked_files, letter_rows, letter_text, parse_csv, unzip
from redis import Redis
from worker_process import start_worker, worker_log

from connectors.demo.people import NOBODY, SHOWCASE
from dsr import processing, results, signing
from dsr.export.pack import NAME, PARTIAL, pack_path
from dsr.extensions import db
from dsr.models import Task
from dsr.models.types import utcnow
from dsr.release import answer
from dsr.signing import Purpose
from dsr.status import RequestStatus as S

#: end to end with the demo systems and worker processes: slow, and the database tests cover both
pytestmark = pytest.mark.sqlite_only

CAMILLE = SHOWCASE["everywhere"]
HUGO = SHOWCASE["crm_only"]


def pack_folder(app, ref: str) -> Path:
    with app.app_context():
        return pack_path(db.session.scalars(select_ref(ref)).one()).parent


def answer_mails(app) -> list:
    return [m for m in outbox_messages(app) if m["X-DSR-Template"] == "answer_ready"]


def wait_for_file(folder: Path, pattern: str, worker, tmp_path, seconds: float = 30) -> Path:
    """The first file of `folder` matching `pattern`, as soon as the worker makes it."""
    deadline = time.monotonic() + seconds
    while True:
        found = sorted(folder.glob(pattern)) if folder.exists() else []
        if found:
            return found[0]
        assert time.monotonic() < deadline and worker.poll() is None, worker_log(tmp_path)
        time.sleep(0.02)


def in_language(app, language: str, text: str, **values) -> str:
    """`text` as the pack, letter and email say it in `language`."""
    with app.test_request_context(), force_locale(language):
        return gettext(text, **values)


def release_from_the_case_page(engine, make_staff, ref: str) -> None:
    """A handler signs in and presses "Release the answer" on the case page."""
    client = engine.test_client()
    assert login(client, make_staff("handler")).status_code == 303
    token = csrf_token(client, f"/staff/requests/{ref}")
    pressed = client.post(f"/staff/requests/{ref}/release", data={"csrf_token": token})
    assert pressed.status_code == 303


def release_through_the_api(engine, token: str, ref: str) -> None:
    response = engine.test_client().post(f"/api/v1/requests/{ref}/release", headers=bearer(token))
    assert response.status_code == 202 and response.get_json()["status"] == S.REVIEW


def downloaded(engine, email: str, language: str, ref: str) -> tuple[ZipFile, dict[str, bytes]]:
    """The one answer email's link, followed: the pack and its files, checked against its
    manifest."""
    [mail] = answer_mails(engine)
    assert (mail["To"], mail["Content-Language"]) == (email, language)
    assert mail["Subject"].startswith(
        in_language(engine, language, "Our answer to your request %(ref)s", ref=ref)
    )
    [link] = links_in_outbox(engine, "/download/")
    response = engine.test_client().get("/" + link.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = unzip(response.get_data())
    files = checked_files(archive)
    manifest = json.loads(files["manifest.json"])
    assert (manifest["reference"], manifest["type"]) == (ref, "access")
    return archive, files


def stored_results(engine, ref: str) -> dict[str, dict[str, list[dict]]]:
    """What each system that answered returned, read back from the stored results."""
    with engine.app_context():
        request = db.session.scalars(select_ref(ref)).one()
        return {
            task.connector: {
                table: list(results.records(task, table)) for table in task.record_counts
            }
            for task in request.tasks
            if task.status == "succeeded"
        }


def matches_the_systems(engine, ref: str, files: dict[str, bytes]) -> dict:
    """data.json, every CSV and the manifest's counts hold what the systems returned."""
    stored = stored_results(engine, ref)
    data = json.loads(files["data.json"])["systems"]
    assert {connector: system["tables"] for connector, system in data.items()} == stored
    for connector, tables in stored.items():
        for table, records in tables.items():
            rows = parse_csv(files[f"{connector}/{table}.csv"])
            header = list(dict.fromkeys(key for record in records for key in record))
            assert rows[0] == [as_cell(key) for key in header]
            assert rows[1:] == [[as_cell(r.get(key)) for key in header] for r in records]
    csvs = {name for name in files if name.endswith(".csv")}
    assert csvs == {f"{c}/{t}.csv" for c, tables in stored.items() for t in tables}
    manifest = json.loads(files["manifest.json"])
    assert {s["connector"]: s["tables"] for s in manifest["systems"]} == {
        connector: {table: len(records) for table, records in tables.items()}
        for connector, tables in stored.items()
    }
    return stored


def system_rows(engine, ref: str, language: str) -> set[tuple]:
    """The rows the letter's "what our systems returned" table must hold for this request."""
    labels = {name: c["label"] for name, c in engine.config["INSTANCE"]["connectors"].items()}
    rows = set()
    for connector, task in tasks_of(engine, ref).items():
        if task.status != "succeeded":
            rows.add((labels[connector], "—", in_language(engine, language, "not searched")))
        elif not task.record_counts:
            rows.add((labels[connector], "—", in_language(engine, language, "no data")))
        else:
            rows |= {(labels[connector], t, str(n)) for t, n in task.record_counts.items()}
    return rows


def test_camille_known_to_all_three_systems_gets_her_answer(engine, run_jobs, make_staff, tmp_path):
    ref = submit_and_confirm(engine, run_jobs, CAMILLE, proven=True, phone="06 39 98 00 01")
    run_jobs(engine)  # CRM and billing answer; the SMS platform accepts, then calls back
    wait_for_status(engine, ref, S.REVIEW)
    release_from_the_case_page(engine, make_staff, ref)
    run_jobs(engine)
    request = wait_for_status(engine, ref, S.COMPLETED)
    assert request.released_at is not None
    archive, files = downloaded(engine, CAMILLE.email, "fr", ref)
    stored = matches_the_systems(engine, ref, files)
    assert set(stored) == {"crm", "billing", "sms"} and all(stored.values())
    assert stored["billing"]["customers"][0]["email"].lower() == CAMILLE.email
    rows = set(letter_rows(archive))
    assert system_rows(engine, ref, "fr") <= rows
    letter = letter_text(archive)
    assert ref in letter and CAMILLE.last_name in letter
    assert in_language(engine, "fr", "What our systems returned about you") in letter
    readme = files["README.txt"].decode()
    assert ref in readme and "crm/contacts.csv" in readme
    with engine.app_context():
        status = signing.sign(Purpose.STATUS, request.id)
    page = engine.test_client().get(f"/status/{status}").get_data(as_text=True)
    assert "/download/" in page


def test_hugo_known_to_the_crm_only_gets_his_answer_in_english(engine, run_jobs, staff_tokens):
    ref = submit_and_confirm(engine, run_jobs, HUGO, language="en")
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    release_through_the_api(engine, staff_tokens["handler"], ref)
    run_jobs(engine)
    wait_for_status(engine, ref, S.COMPLETED)
    archive, files = downloaded(engine, HUGO.email, "en", ref)
    stored = matches_the_systems(engine, ref, files)
    assert stored["billing"] == {} and stored["crm"]["contacts"][0]["email"] == HUGO.email
    assert "sms" not in stored  # skipped: no phone number to find him by
    assert system_rows(engine, ref, "en") <= set(letter_rows(archive))
    assert ("SMS platform", "—", "not searched") in set(letter_rows(archive))
    assert "What our systems returned about you" in letter_text(archive)


def test_a_person_known_to_none_gets_an_answer_that_says_so(engine, run_jobs, staff_tokens):
    ref = submit_and_confirm(engine, run_jobs, email=NOBODY, proven=True, phone="+33 6 39 98 99 99")
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    release_through_the_api(engine, staff_tokens["admin"], ref)
    run_jobs(engine)
    wait_for_status(engine, ref, S.COMPLETED)
    archive, files = downloaded(engine, NOBODY, "fr", ref)
    stored = matches_the_systems(engine, ref, files)
    assert stored == {"crm": {}, "billing": {}, "sms": {}}
    assert not any(name.endswith(".csv") for name in files)
    nothing = in_language(engine, "fr", "Our systems returned no data about you.")
    assert nothing in files["README.txt"].decode()
    letter = letter_text(archive)
    assert (
        in_language(
            engine,
            "fr",
            "We searched every system that holds personal data and found no data about you.",
        )
        in letter
    )
    assert system_rows(engine, ref, "fr") <= set(letter_rows(archive))
    assert {row[2] for row in system_rows(engine, ref, "fr")} == {"aucune donnée"}


def test_a_worker_killed_while_it_builds_the_pack_leaves_nothing_and_the_release_finishes(
    engine, run_jobs, staff_tokens, tmp_path
):
    """`flask dsr worker` is SIGKILLed inside `build_pack`, its `.partial` file open.

    To know for sure that the worker is inside the build, and stays there, one of
    Hugo's result files is swapped for a named pipe with no writer: the build
    creates its `.partial` file, starts the ZIP, then blocks opening the pipe while
    it writes data.json. The test kills the worker there, and puts the file back.
    Then the reconciliation, past the job's time limit, queues the release again.
    """
    ref = submit_and_confirm(engine, run_jobs, HUGO, language="en")
    run_jobs(engine)
    wait_for_status(engine, ref, S.REVIEW)
    with engine.app_context():
        crm = db.session.get(Task, tasks_of(engine, ref)["crm"].id)
        held = results.task_folder(crm) / results.file_name("contacts")
    kept = held.rename(held.with_name("kept-aside"))
    os.mkfifo(held, 0o600)
    client, handler = engine.test_client(), bearer(staff_tokens["handler"])
    assert client.post(f"/api/v1/requests/{ref}/release", headers=handler).status_code == 202
    worker = start_worker(engine, tmp_path)
    try:
        partial = wait_for_file(pack_folder(engine, ref), f"*{PARTIAL}", worker, tmp_path)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    held.unlink()
    kept.rename(held)
    # killed midway: a partial file nobody serves, no pack, the release still asked for
    assert partial.exists() and not (partial.parent / NAME).exists()
    with engine.app_context():
        request = db.session.scalars(select_ref(ref)).one()
        assert request.status == S.REVIEW and request.release_requested_at is not None
        assert request.released_at is None and request.release_error is None
        status = signing.sign(Purpose.STATUS, request.id)
        download = signing.sign(Purpose.DOWNLOAD, request.id)
    export = client.get(f"/api/v1/requests/{ref}/export", headers=handler)
    assert export.status_code == 404 and export.get_json()["error"]["code"] == "no_pack"
    assert client.get(f"/download/{download}").status_code == 404
    page = client.get(f"/status/{status}").get_data(as_text=True)
    assert "/download/" not in page
    assert not answer_mails(engine)
    # the reconciliation leaves a started job alone within its time limit, then queues it again
    with engine.app_context():
        assert processing.reconcile()["releases"] == 0
        assert processing.reconcile(now=utcnow() + timedelta(minutes=30))["releases"] == 0
        later = utcnow() + timedelta(seconds=answer.RELEASE_TIMEOUT + 120)
        assert processing.reconcile(now=later)["releases"] == 1
    run_jobs(engine)  # the next worker finishes the release
    request = wait_for_status(engine, ref, S.COMPLETED)
    assert request.released_at is not None and request.release_error is None
    [mail] = answer_mails(engine)
    assert mail["To"] == HUGO.email and mail["Content-Language"] == "en"
    assert (partial.parent / NAME).exists()
    [link] = links_in_outbox(engine, "/download/")
    pack = client.get("/" + link.split("://", 1)[1].split("/", 1)[1])
    assert pack.status_code == 200 and pack.mimetype == "application/zip"
    matches_the_systems(engine, ref, checked_files(unzip(pack.get_data())))
    assert [p.name for p in partial.parent.iterdir()] == [NAME]  # the dead build's file swept
    assert not Redis.from_url(engine.config["REDIS_URL"]).exists(answer.lock_name(request.id))
