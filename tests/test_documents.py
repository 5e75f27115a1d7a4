"""Documents a death notice needs, uploaded from the status page: PDF or images only (by
content), size-limited, sealed like the results, opened by a handler."""

import io

import pytest
from conftest import csrf_token
from fixtures_answers import by_ref, case_url, kinds
from fixtures_staff import english, new_case
from sqlalchemy import select

from dsr import documents, results, signing
from dsr.extensions import db
from dsr.models import Document
from dsr.signing import Purpose

NOTICE = {
    "mode": "death_notice",
    "requester_role": "heir",
    "deceased_name": "Jean Durand",
    "date_of_death": "2026-10-01",
}
PDF = b"%PDF-1.4\n% a death certificate\n" + bytes(range(256)) * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000


@pytest.fixture
def app(make_app):
    return make_app(DOCUMENT_MAX_BYTES=50_000)


def status_of(app, ref: str) -> str:
    with app.app_context():
        return f"/status/{signing.sign(Purpose.STATUS, by_ref(ref).id)}"


def send(client, status: str, content: bytes, name="acte de décès.pdf", kind="death_certificate"):
    data = {"csrf_token": csrf_token(client, status), "kind": kind}
    if content is not None:
        data["document"] = (io.BytesIO(content), name)
    return client.post(f"{status}/documents", data=data, content_type="multipart/form-data")


def stored(app) -> list[Document]:
    with app.app_context():
        return list(db.session.scalars(select(Document)))


def files_of(app, ref: str) -> list:
    with app.app_context():
        folder = results.request_folder(ref) / documents.FOLDER
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_death_notice_takes_a_pdf_and_a_photo_sealed(app, handler_client, viewer_client):
    ref = new_case(app, "open", type_="post_mortem", details=NOTICE)
    status = status_of(app, ref)
    client = english(app.test_client())
    assert "Send the document" in client.get(status).get_data(as_text=True)
    assert send(client, status, PDF).status_code == 303
    assert send(client, status, PNG, "livret.png", "proof_of_quality").status_code == 303
    pdf, png = stored(app)
    assert (pdf.media_type, pdf.size, pdf.filename) == (
        "application/pdf",
        len(PDF),
        "acte de décès.pdf",
    )
    assert png.media_type == "image/png"
    with app.app_context():
        on_disk = (results.request_folder(ref) / documents.FOLDER / f"{pdf.id}.sealed").read_bytes()
    assert b"death certificate" not in on_disk  # sealed
    page = client.get(status).get_data(as_text=True)
    assert "acte de décès.pdf" in page and "We received a document from you." in page
    opened = handler_client.get(f"{case_url(ref)}/documents/{pdf.id}")
    assert opened.status_code == 200 and opened.get_data() == PDF
    assert opened.mimetype == "application/pdf"
    assert viewer_client.get(f"{case_url(ref)}/documents/{pdf.id}").status_code == 403
    other = new_case(app, "open", type_="post_mortem", details=NOTICE, email="b@example.org")
    assert handler_client.get(f"{case_url(other)}/documents/{pdf.id}").status_code == 404
    assert kinds(app, ref).count("document.uploaded") == 2 and "document.viewed" in kinds(app, ref)


@pytest.mark.parametrize(
    ("content", "kind", "status", "words"),
    [
        (b"MZ\x90\x00 an executable", "death_certificate", 415, "PDF file or a photo"),
        (b"<html>not a pdf</html>", "death_certificate", 415, "PDF file or a photo"),
        (PDF + b"x" * 60_000, "death_certificate", 413, "at most"),
        (None, "death_certificate", 400, "Choose a file"),
        (PDF, "passport", 400, "Say what the document is"),
    ],
)
def test_what_is_not_taken_is_refused_and_nothing_is_kept(app, content, kind, status, words):
    ref = new_case(app, "open", type_="post_mortem", details=NOTICE)
    client = english(app.test_client())
    refused = send(client, status_of(app, ref), content, kind=kind)
    assert refused.status_code == status and words in refused.get_data(as_text=True)
    assert stored(app) == [] and files_of(app, ref) == []


def test_a_body_larger_than_any_document_gets_a_clear_413(app):
    ref = new_case(app, "open", type_="post_mortem", details=NOTICE)
    refused = send(english(app.test_client()), status_of(app, ref), PDF * 20)
    assert refused.status_code == 413 and stored(app) == []


def test_only_a_death_notice_takes_documents_and_only_with_its_form(app):
    ref = new_case(app, "open")
    client = english(app.test_client())
    status = status_of(app, ref)
    assert "Send the document" not in client.get(status).get_data(as_text=True)
    assert send(client, status, PDF).status_code == 409
    notice = new_case(app, "open", type_="post_mortem", details=NOTICE, email="h@example.org")
    forged = client.post(
        f"{status_of(app, notice)}/documents",
        data={"kind": "death_certificate", "document": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert forged.status_code == 400 and stored(app) == []
