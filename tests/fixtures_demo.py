"""Fixtures: the demo systems (CRM, billing, SMS platform) as real processes on loopback.

- `crm_server`, `sms_server` (session): `python -m connectors.demo.crm|sms --faults`
  on free ports, with the secrets of `DEMO_SECRETS` in their environment;
- `crm`, `sms` (per test): the same servers, with their data and faults reset
  before and after the test;
- `billing_template` (session) is seeded once; `billing_db` (per test) is a
  fresh copy of it, `billing_url` its SQLAlchemy URL;
- `demo_connectors_config(...)` is the `[connectors]` table of the demo instance
  with test addresses; `demo_connectors` builds it for the running systems;
- `engine` (per test) is the app with the demo connectors, served as a real HTTP
  server on loopback (the SMS platform calls it back over a socket).
"""

import copy
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DEMO_SECRETS, free_port
from werkzeug.serving import make_server

from connectors.demo import billing
from dsr.config import DEMO_CONFIG, load_instance

ROOT = Path(__file__).resolve().parents[1]
#: seconds the test SMS platform waits before calling back (3 in the demo)
SMS_DELAY = 0.2
#: the billing mapping of the demo instance (dsr/demo/instance.toml, [connectors.billing])
BILLING_TABLES = {
    "customers": {
        "key": "id",
        "match": {"email": "email", "phone": "phone", "customer_number": "customer_number"},
        "erase": "anonymise",
        "columns": {"name": "retain", "billing_address": "retain"},
        "restrict_column": "restricted_at",
    },
    "trips": {"parent": "customers", "foreign_key": "customer_id", "erase": "delete"},
    "payment_methods": {"parent": "customers", "foreign_key": "customer_id", "erase": "delete"},
    "invoices": {
        "parent": "customers",
        "foreign_key": "customer_id",
        "erase": "retain",
        "restrict_column": "restricted_at",
    },
    "payments": {
        "parent": "invoices",
        "foreign_key": "invoice_id",
        "erase": "retain",
        "restrict_column": "restricted_at",
    },
}


#: every action, which the CRM and the SMS platform both do
ALL_ACTIONS = [
    "access",
    "erase",
    "rectify",
    "restrict",
    "lift_restriction",
    "object",
    "withdraw_consent",
]
#: the variable the demo TOML reads each connector's `url` from (`url_env`)
DEMO_URL_ENV = {"crm": "DSR_CRM_URL", "billing": "DSR_BILLING_URL", "sms": "DSR_SMS_URL"}


def demo_connectors_config(crm_url: str, sms_url: str, billing_url: str) -> dict:
    """The `[connectors]` table of the demo instance, pointing at test systems.

    `crm_url` and `sms_url` are the systems' `/dsr` endpoints, `billing_url` a
    SQLAlchemy URL, each given directly where the demo TOML reads a variable
    (`DEMO_URL_ENV`).
    """
    return {
        "crm": {
            "kind": "http",
            "label": "CRM",
            "url": crm_url,
            "secret_env": "DSR_CRM_SECRET",
            "actions": list(ALL_ACTIONS),
            "match_on": ["email", "phone", "customer_number"],
            "retries": 3,
            "backoff": 10,
            "timeout": 30,
        },
        "billing": {
            "kind": "sql",
            "label": "Billing",
            "url": billing_url,
            "actions": ["access", "erase", "rectify", "restrict", "lift_restriction"],
            "match_on": ["email", "phone", "customer_number"],
            "retries": 3,
            "backoff": 10,
            "tables": BILLING_TABLES,
        },
        "sms": {
            "kind": "webhook",
            "label": "SMS platform",
            "url": sms_url,
            "secret_env": "DSR_SMS_SECRET",
            "actions": list(ALL_ACTIONS),
            "match_on": ["phone"],
            "retries": 3,
            "backoff": 10,
            "timeout": 30,
        },
    }


@dataclass
class DemoSystem:
    """A demo system running as a child process."""

    name: str
    base_url: str
    secret: str
    process: subprocess.Popen
    log: Path

    @property
    def dsr_url(self) -> str:
        return self.base_url + "/dsr"

    def post(self, path: str, payload=None) -> dict:
        """POST JSON to one of the system's endpoints; the JSON answer (raises on non-2xx)."""
        body = json.dumps(payload or {}).encode()
        request = urllib.request.Request(
            self.base_url + path, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    def faults(self, mode: str, times: int = 1, seconds: float = 0) -> None:
        """Make the next `times` calls misbehave (see the system's module docstring)."""
        self.post("/_faults", {"mode": mode, "times": times, "seconds": seconds})

    def reset(self) -> None:
        """Seeded data back, faults off."""
        self.post("/_reset")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_demo(name: str, workdir: Path, *args: str, faults: bool = True) -> DemoSystem:
    """Start `python -m connectors.demo.<name>` on a free port; wait until /health answers."""
    port, log = free_port(), workdir / f"{name}.log"
    command = [sys.executable, "-m", f"connectors.demo.{name}", "--port", str(port), *args]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [*command, "--faults"] if faults else command,
            cwd=ROOT,
            env={**os.environ, **DEMO_SECRETS},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    system = DemoSystem(
        name, f"http://127.0.0.1:{port}", DEMO_SECRETS[f"DSR_{name.upper()}_SECRET"], process, log
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(system.base_url + "/health", timeout=1):
                return system
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    system.stop()
    pytest.fail(f"the demo {name} did not start; its log:\n{log.read_text()}")


@pytest.fixture(scope="session")
def crm_server(tmp_path_factory):
    system = start_demo("crm", tmp_path_factory.mktemp("crm"))
    yield system
    system.stop()


@pytest.fixture(scope="session")
def sms_server(tmp_path_factory):
    system = start_demo("sms", tmp_path_factory.mktemp("sms"), "--delay", str(SMS_DELAY))
    yield system
    system.stop()


@pytest.fixture
def crm(crm_server):
    """The running CRM with its seeded data and no faults, for one test."""
    crm_server.reset()
    yield crm_server
    crm_server.reset()


@pytest.fixture
def sms(sms_server):
    """The running SMS platform with its seeded data and no faults, for one test."""
    sms_server.reset()
    yield sms_server
    sms_server.reset()


@pytest.fixture(scope="session")
def billing_template(tmp_path_factory) -> Path:
    """The billing file, seeded once per session; copy it (`billing_db`) before writing."""
    path = tmp_path_factory.mktemp("billing") / "billing.sqlite3"
    billing.seed(path)
    return path


@pytest.fixture
def billing_db(billing_template, tmp_path) -> Path:
    """A fresh copy of the seeded billing file, for one test."""
    path = tmp_path / "billing.sqlite3"
    shutil.copy(billing_template, path)
    return path


@pytest.fixture
def billing_url(billing_db) -> str:
    return f"sqlite:///{billing_db}"


@pytest.fixture
def demo_connectors(crm, sms, billing_url) -> dict:
    """The demo `[connectors]` table for the running systems and this test's billing copy."""
    return demo_connectors_config(crm.dsr_url, sms.dsr_url, billing_url)


@pytest.fixture
def engine(make_app, demo_connectors, tmp_path):
    """The app with the demo connectors, served on a loopback port; quick retries."""
    port = free_port()
    connectors = copy.deepcopy(demo_connectors)
    for settings in connectors.values():
        settings["backoff"] = 0
    config = load_instance(str(DEMO_CONFIG))
    config["connectors"] = connectors
    app = make_app(INSTANCE=config, BASE_URL=f"http://127.0.0.1:{port}")
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield app
    server.shutdown()
    thread.join(timeout=10)
