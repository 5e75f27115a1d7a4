"""Outgoing email: the job, both backends (outbox files, a real SMTP server) and /dev/outbox."""

import mailbox
import socket
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from babel.dates import format_date
from rq.registry import ScheduledJobRegistry

from dsr import audit, deadlines, mail, operations
from dsr import queue as dsr_queue
from dsr.extensions import db
from dsr.models import DataRequest
from dsr.web.dev import linkify
from tests.conftest import free_port

#: emails: the database is incidental
pytestmark = pytest.mark.sqlite_only

VERIFY_URL = "http://dsr.test/verify/token-abc"
STATUS_URL = "http://dsr.test/status/token-xyz"


def create(app, language="fr", name="Camille Dupont", email="Camille@Example.org") -> int:
    """A committed, unverified access request; its id."""
    with app.app_context():
        request = operations.create_request(
            {
                "type": "access",
                "email": email,
                "name": name,
                "identifiers": {},
                "details": {},
                "language": language,
            }
        )
        db.session.commit()
        return request.id


def ref_of(app, request_id: int) -> str:
    with app.app_context():
        return db.session.get(DataRequest, request_id).ref


def outbox_files(app) -> list[Path]:
    folder = Path(app.config["OUTBOX_DIR"])
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


def parse(path: Path):
    with open(path, "rb") as fh:
        return BytesParser(policy=policy.default).parse(fh)


def send(app, run_jobs, template, language="fr", **context):
    """Queue one email, run the worker, return (request id, the parsed message)."""
    request_id = create(app, language)
    with app.app_context():
        mail.send_later(request_id, template, **context)
    run_jobs()
    files = outbox_files(app)
    assert len(files) == 1
    return request_id, parse(files[0])


@pytest.mark.parametrize("language", ["fr", "en"])
def test_verify_email_is_written_to_the_outbox(app, run_jobs, language):
    request_id, message = send(app, run_jobs, "verify", language, verify_url=VERIFY_URL)
    ref = ref_of(app, request_id)
    assert message["To"] == "camille@example.org"
    assert message["From"].addresses[0].addr_spec == app.config["MAIL_FROM"]
    assert message["From"].addresses[0].display_name == app.config["INSTANCE"]["controller"]["name"]
    assert ref in message["Subject"]
    assert message["Content-Language"] == language
    assert message["Message-ID"] and message["Date"]
    body = message.get_content()
    assert VERIFY_URL in body.split()
    assert ref in body and "Camille Dupont" in body
    assert outbox_files(app)[0].name.endswith(f"-{ref}-verify.eml")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_confirmed_email_dates_in_the_request_language(app, run_jobs, language):
    """The worker has no HTTP request: the forced locale still formats the legal due date."""
    request_id, message = send(app, run_jobs, "confirmed", language, status_url=STATUS_URL)
    with app.app_context():
        request = db.session.get(DataRequest, request_id)
        due = deadlines.local_date(request.effective_due_at, "Europe/Paris")
    body = message.get_content()
    assert format_date(due, "long", locale=language) in body
    assert STATUS_URL in body.split()
    instance = app.config["INSTANCE"]
    assert instance["controller"]["dpo"]["email"] in body
    assert instance["authority"]["address"] in body
    assert "CNIL" in body


def test_withdrawn_email(app, run_jobs):
    request_id, message = send(app, run_jobs, "withdrawn", "en", status_url=STATUS_URL)
    ref = ref_of(app, request_id)
    assert message["Subject"] == f"Your request {ref} has been withdrawn"
    body = message.get_content()
    assert STATUS_URL in body.split() and "Nothing more will be done" in body


def test_sending_is_audited_and_happens_only_in_the_worker(app, run_jobs):
    request_id = create(app)
    with app.app_context():
        mail.send_later(request_id, "verify", verify_url=VERIFY_URL)
    assert outbox_files(app) == []
    run_jobs()
    message = parse(outbox_files(app)[0])
    with app.app_context():
        sent = [e for e in audit.events_for(request_id) if e.kind == "mail.sent"]
        assert audit.verify_chain().ok
    assert len(sent) == 1 and sent[0].actor == "system"
    assert sent[0].data == {"template": "verify", "message_id": message["Message-ID"]}


def test_outbox_names_are_unique_and_sort_by_time(app, run_jobs):
    request_id = create(app)
    with app.app_context():
        for template in ("verify", "confirmed", "withdrawn"):
            mail.send_later(request_id, template, verify_url=VERIFY_URL, status_url=STATUS_URL)
    run_jobs()
    names = [path.name for path in outbox_files(app)]
    assert [name.rsplit("-", 1)[1] for name in names] == [
        "verify.eml",
        "confirmed.eml",
        "withdrawn.eml",
    ]


def test_dev_outbox_lists_and_shows_messages(app, client, run_jobs):
    request_id = create(app, "en", name="<script>alert(1)</script>")
    with app.app_context():
        mail.send_later(request_id, "verify", verify_url=VERIFY_URL)
        mail.send_later(request_id, "withdrawn", status_url=STATUS_URL)
    run_jobs()
    ref = ref_of(app, request_id)
    newest, oldest = reversed(outbox_files(app))

    index = client.get("/dev/outbox").get_data(as_text=True)
    assert index.index(f"/dev/outbox/{newest.name}") < index.index(f"/dev/outbox/{oldest.name}")
    assert f"Your request {ref} has been withdrawn" in index
    assert "camille@example.org" in index

    page = client.get(f"/dev/outbox/{oldest.name}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<a href="{VERIFY_URL}">{VERIFY_URL}</a>' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Message-ID" in html


def test_dev_outbox_when_empty(client):
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    assert "/dev/outbox/" not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "name",
    [
        "../dsr.sqlite3",
        "..%2Fdsr.sqlite3",
        "%2e%2e%2fdsr.sqlite3",
        "..",
        "dsr.sqlite3",
        "notes.txt",
        "missing.eml",
        "%2Fetc%2Fpasswd",
    ],
)
def test_dev_outbox_refuses_names_outside_the_outbox(app, client, run_jobs, name):
    request_id = create(app)
    with app.app_context():
        mail.send_later(request_id, "verify", verify_url=VERIFY_URL)
    run_jobs()
    (Path(app.config["OUTBOX_DIR"]) / "notes.txt").write_text("not a message")
    assert client.get(f"/dev/outbox/{name}").status_code == 404


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("Open http://a.test/x.", ["http://a.test/x"]),
        ("(see https://a.test/y?z=1), then", ["https://a.test/y?z=1"]),
        ('javascript:alert(1) "http://a.test/q"', ["http://a.test/q"]),
    ],
)
def test_linkify_keeps_text_and_finds_only_http_links(text, links):
    pieces = linkify(text)
    assert "".join(piece for piece, _ in pieces) == text
    assert [link for _, link in pieces if link] == links


# -- SMTP, against a real server on loopback ---------------------------------------------------


@pytest.fixture
def smtp_server(tmp_path):
    """An aiosmtpd server process storing what it receives in a Maildir; its (port, Maildir)."""
    port, maildir = free_port(), tmp_path / "maildir"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("aiosmtpd did not start")
    yield port, maildir
    proc.terminate()
    proc.wait(timeout=10)


def smtp_app(make_app, port):
    return make_app(
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_SECURITY="none",
        SMTP_TIMEOUT=5,
    )


def test_smtp_backend_delivers_to_a_real_server(make_app, smtp_server, run_jobs):
    port, maildir = smtp_server
    app = smtp_app(make_app, port)
    request_id = create(app, "fr")
    with app.app_context():
        mail.send_later(request_id, "verify", verify_url=VERIFY_URL)
    run_jobs(app)
    received = list(mailbox.Maildir(maildir, create=False))
    assert len(received) == 1
    message = BytesParser(policy=policy.default).parsebytes(bytes(received[0]))
    assert message["To"] == "camille@example.org"
    assert ref_of(app, request_id) in message["Subject"]
    assert VERIFY_URL in message.get_content().split()
    assert outbox_files(app) == []
    with app.app_context():
        kinds = [event.kind for event in audit.events_for(request_id)]
    assert "mail.sent" in kinds


def test_failed_delivery_is_retried_and_not_logged_as_sent(make_app, run_jobs):
    app = smtp_app(make_app, free_port())  # nothing listens there
    request_id = create(app)
    with app.app_context():
        mail.send_later(request_id, "verify", verify_url=VERIFY_URL)
    run_jobs(app)
    with app.app_context():
        kinds = [event.kind for event in audit.events_for(request_id)]
        scheduled = ScheduledJobRegistry("mail", connection=dsr_queue.redis_connection())
        assert len(scheduled.get_job_ids()) == 1
    assert "mail.sent" not in kinds


def test_backend_for_refuses_an_unknown_security_mode(app):
    with pytest.raises(ValueError, match="SMTP_SECURITY"):
        mail.backend_for({**app.config, "MAIL_BACKEND": "smtp", "SMTP_SECURITY": "ssl"})
