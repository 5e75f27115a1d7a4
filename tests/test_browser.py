"""The flows that exist today, in a real browser: headless Chromium (Debian's) driven by
Playwright, on the engine served over loopback with the demo systems, a real Redis and a
`flask dsr worker` process.

A person files a request in French through the form (mistyping her phone number first),
confirms it by the link in her email, follows it on her status page, proves her phone
by the code a text message brings, answers the team's question with a file, and
downloads the answer; a handler signs in, runs a case again with the proven phone, asks
the person, extends the deadline, starts and releases cases, refuses one. Every page either of
them reaches passes axe-core with no serious or critical violation and shows no console
error (tests/browser_pages.py, where the steps are).
"""

import json
import time
import zipfile

import pytest
from access_steps import tasks_of, wait_for_status
from fixtures_answers import by_ref
from pack_contents import checked_files

from connectors.demo.people import SHOWCASE
from dsr.extensions import db
from dsr.models.task import TaskStatus as T
from dsr.status import TITLES
from dsr.status import RequestStatus as S
from dsr.web.staff_text import STATUS_TITLES

#: end to end with the demo systems, a worker process and a browser: slow, SQLite only
pytestmark = [pytest.mark.sqlite_only, pytest.mark.browser]

CAMILLE = SHOWCASE["everywhere"]
HUGO = SHOWCASE["crm_only"]
#: seconds the systems and the worker may take to reach a status
WORK_SECONDS = 60


def wait_for_task(app, ref: str, connector: str, status: str) -> None:
    deadline = time.monotonic() + WORK_SECONDS
    while (task := tasks_of(app, ref)[connector]).status != status:
        assert time.monotonic() < deadline, (task.status, task.last_error)
        time.sleep(0.1)


def pack_of(path) -> dict:
    """The downloaded pack's manifest, once its files match it."""
    with zipfile.ZipFile(path) as archive:
        files = checked_files(archive)
    return {**json.loads(files["manifest.json"]), "names": set(files)}


def test_a_person_asks_for_her_data_in_french_and_downloads_the_answer(
    person, handler, engine, engine_worker, tmp_path
):
    person.open_form("Access my data")
    person.send_form(
        **{"Email address": CAMILLE.email, "Full name": "Camille Durand", "Phone number": "06"}
    )
    [error] = person.form_errors()
    assert error.startswith(person.t("Phone number"))
    assert error.endswith(person.t("Enter a phone number, such as +33 6 12 34 56 78."))
    person.send_form(**{"Phone number": "06 39 98 00 01"})  # the rest is kept
    assert person.sent()
    ref = person.confirm()  # an access request starts by itself once confirmed
    assert person.summary("Your request") == person.t("Access my data")
    wait_for_status(engine, ref, S.REVIEW, WORK_SECONDS)
    assert person.follow() == person.t(TITLES[S.REVIEW])
    assert tasks_of(engine, ref)["sms"].status == T.SKIPPED  # her phone is not proven yet
    person.prove_phone()
    assert person.page.get_by_text(person.t("proven: we use it to find your data")).is_visible()

    handler.open_case(ref)
    assert handler.status() == handler.t(STATUS_TITLES[S.REVIEW])
    handler.press("Run again with the proven identifiers")
    wait_for_task(engine, ref, "sms", T.SUCCEEDED)
    wait_for_status(engine, ref, S.REVIEW, WORK_SECONDS)
    handler.reload()
    handler.press("Release the answer")
    wait_for_status(engine, ref, S.COMPLETED, WORK_SECONDS)
    handler.reload()
    assert handler.status() == handler.t(STATUS_TITLES[S.COMPLETED])

    assert person.follow() == person.t(TITLES[S.COMPLETED])
    pack = pack_of(person.download_answer(tmp_path))
    assert (pack["reference"], pack["type"]) == (ref, "access")
    expected = {"access-report.docx", "data.json", "crm/contacts.csv", "sms/messages.csv"}
    assert expected <= pack["names"]  # the SMS platform answered once her phone was proven

    person.goto("/download/not-a-link")
    assert person.heading() == person.t("This link is not valid")
    person.goto("/no-such-page")
    assert person.heading() == person.t("Sorry, this did not work")


def test_a_handler_starts_an_erasure_and_releases_its_letter(
    person, handler, engine, engine_worker, tmp_path
):
    person.file_request("Erase my data", email=HUGO.email, name="Hugo Lefèvre")
    ref = person.confirm()  # an erasure waits for a handler
    assert person.summary("Status") == person.t(TITLES[S.OPEN])

    handler.open_case(ref)
    assert handler.status() == handler.t(STATUS_TITLES[S.OPEN])
    handler.press("Start processing")
    wait_for_status(engine, ref, S.REVIEW, WORK_SECONDS)
    handler.reload()
    assert handler.status() == handler.t(STATUS_TITLES[S.REVIEW])
    handler.press("Release the answer")
    wait_for_status(engine, ref, S.COMPLETED, WORK_SECONDS)

    assert person.follow() == person.t(TITLES[S.COMPLETED])
    pack = pack_of(person.download_answer(tmp_path))
    assert (pack["reference"], pack["type"]) == (ref, "erasure")


LEO = SHOWCASE["sms_only"]
PDF = b"%PDF-1.4\n% an identity document\n" + bytes(range(256)) * 8


def test_the_team_asks_extends_releases_and_refuses(
    person, handler, engine, engine_worker, tmp_path
):
    person.file_request("Erase my data", email=HUGO.email, name="Hugo Lefèvre")
    ref = person.confirm()
    handler.open_case(ref)
    handler.press(
        "Ask the person",
        **{
            "Your question (the person reads it in the email and on their status page)": (
                "Which account do you mean: the one opened in 2019?"
            )
        },
    )
    assert handler.status() == handler.t(STATUS_TITLES[S.AWAITING_SUBJECT])
    assert person.follow() == person.t(TITLES[S.AWAITING_SUBJECT])
    document = tmp_path / "piece.pdf"
    document.write_bytes(PDF)
    person.answer_question("Oui, celui de 2019.", document)
    assert person.summary("Status") == person.t(TITLES[S.OPEN])  # back where it was

    handler.reload()
    assert handler.status() == handler.t(STATUS_TITLES[S.OPEN])
    due_before = request_of(engine, ref).due_at
    handler.choose("One further month")
    handler.press(
        "Extend the deadline",
        **{"Why more time is needed (the person reads it)": "Three archives to search."},
    )
    extended = request_of(engine, ref)
    assert extended.decisions["extension"]["months"] == 1 and extended.extended_due_at > due_before
    handler.press("Start processing")
    wait_for_status(engine, ref, S.REVIEW, WORK_SECONDS)
    handler.reload()
    handler.press("Release the answer")
    wait_for_status(engine, ref, S.COMPLETED, WORK_SECONDS)
    assert person.follow() == person.t(TITLES[S.COMPLETED])

    person.file_request("Erase my data", email=LEO.email, name="Léo Garnier")
    refused = person.confirm()
    handler.open_case(refused)
    handler.choose("Manifestly unfounded (Art. 12(5))")
    handler.press(
        "Refuse the request",
        **{"Explanation (the person reads it)": "We hold no data about you to erase."},
    )
    assert handler.status() == handler.t(STATUS_TITLES[S.REJECTED])
    assert person.follow() == person.t(TITLES[S.REJECTED])


def request_of(app, ref: str):
    with app.app_context():
        request = by_ref(ref)
        db.session.expunge(request)
        return request
