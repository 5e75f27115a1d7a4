"""Credentials never reach a message: task errors, the audit chain, the case page."""

import base64
import http.server
import json
import threading

import pytest
from conftest import free_port
from fixtures_staff import bearer, new_case, staff_instance
from sqlalchemy import select

from connectors import registry
from connectors.base import ConnectorConfigError, ConnectorError, TaskOrder
from connectors.matching import Subject
from connectors.redact import redact_text, redact_url
from dsr import processing
from dsr.extensions import db
from dsr.models import AuditEvent, DataRequest
from dsr.models.task import TaskStatus as T


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:secret@127.0.0.1:8080/x?token=abc", "http://127.0.0.1:8080/x"),
        ("https://api.example/v1/dsr?key=abc#frag", "https://api.example/v1/dsr"),
        ("postgresql://dsr:s3cr3t@db.internal/billing", "postgresql://db.internal/billing"),
        ("http://user:pw@[::1]:81/", "http://[::1]:81/"),
        ("http://user:pw@host:port/", "http://…"),
        ("https://plain.example/path", "https://plain.example/path"),
        ("sqlite:////var/lib/x.db", "sqlite:////var/lib/x.db"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_redact_text_finds_every_url():
    text = "GET 'http://a:b@h/x?t=1' failed, then https://h2/?k=2: refused"
    assert redact_text(text) == "GET 'http://h/x' failed, then https://h2/: refused"


def test_connector_errors_redact_whatever_builds_them():
    assert str(ConnectorError("at http://u:secret@h/x?token=abc")) == "at http://h/x"
    assert "secret" not in str(ConnectorConfigError("url http://u:secret@h:x/"))


def test_a_bad_url_setting_is_named_without_its_password():
    with pytest.raises(ConnectorConfigError) as refused:
        registry.build("crm", {"kind": "http", "url": "http://u:secret@host:notaport/x"}, {})
    assert "url must be an http:// or https:// URL" in str(refused.value)
    assert "secret" not in str(refused.value)


@pytest.fixture
def app(make_app):
    instance = staff_instance()
    port = free_port()  # nothing listens there
    instance["connectors"]["broken"]["url"] = f"http://user:secret@127.0.0.1:{port}/x?token=abc"
    return make_app(INSTANCE=instance)


def test_a_failed_task_shows_no_credential_anywhere(app, run_jobs, viewer_client, staff_tokens):
    ref = new_case(app)
    with app.app_context():
        req = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        processing.start(req, actor="staff:test")
    run_jobs()
    with app.app_context():
        req = db.session.scalars(select(DataRequest).where(DataRequest.ref == ref)).one()
        [task] = [t for t in req.tasks if t.connector == "broken"]
        assert task.status == T.FAILED
        last_error = task.last_error
        events = json.dumps([e.data for e in db.session.scalars(select(AuditEvent))])
    assert "at http://127.0.0.1:" in last_error and "/x" in last_error  # still says where
    assert "broken" in events  # the task's events are there, without the error's text
    page = viewer_client.get(f"/staff/requests/{ref}").get_data(as_text=True)
    assert last_error in page
    api = viewer_client.get(f"/api/v1/requests/{ref}", headers=bearer(staff_tokens["viewer"]))
    assert api.get_json()["tasks"]
    for shown in (last_error, events, page, api.get_data(as_text=True)):
        assert "secret" not in shown and "token=abc" not in shown and "user:" not in shown


class Recorder(http.server.BaseHTTPRequestHandler):
    """A system that answers every POST with "no data", keeping what it was sent."""

    seen: list = []

    def do_POST(self):  # noqa: N802 - the http.server name
        self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.seen.append((self.path, self.headers.get("Authorization")))
        body = b'{"status": "succeeded", "records": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class NoSink:
    def write(self, table, record):
        raise AssertionError("the system returned no records")


def test_a_user_and_password_in_the_url_are_sent_as_basic_authentication():
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://crm%40user:p%3Ass@127.0.0.1:{server.server_port}/dsr?tenant=7"
        connector = registry.build("crm", {"kind": "http", "url": url}, {})
        subject = Subject.from_request("alice@example.org")
        result = connector.run(TaskOrder("t-1", "DSR-2026-000001", "access", subject), NoSink())
    finally:
        server.shutdown()
        server.server_close()
    assert result.outcome
    credentials = base64.b64encode(b"crm@user:p:ss").decode()
    assert Recorder.seen[-1] == ("/dsr?tenant=7", f"Basic {credentials}")
