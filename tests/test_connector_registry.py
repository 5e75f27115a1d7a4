"""The connector registry: kinds found through entry points, instances built and checked."""

import importlib
import re

import pytest

from connectors import registry
from connectors.base import ACTIONS, COMMON_SETTINGS, ConnectorConfigError
from connectors.http import HttpConnector
from connectors.manual import ManualConnector
from connectors.sql import SqlConnector
from connectors.webhook import WebhookConnector

ENV = {"DSR_CRM_SECRET": "s3cret", "DSR_CRM_URL": "http://127.0.0.1:8701/dsr", "EMPTY": " "}
HTTP = {"kind": "http", "url": "http://127.0.0.1:8701/dsr"}


def test_the_four_built_in_kinds_are_found_through_entry_points():
    assert registry.kinds() == {
        "http": HttpConnector,
        "manual": ManualConnector,
        "sql": SqlConnector,
        "webhook": WebhookConnector,
    }


def test_an_instance_gets_the_common_defaults():
    connector = registry.build("desk", {"kind": "manual", "label": "Front desk"}, ENV)
    assert isinstance(connector, ManualConnector)
    assert (connector.name, connector.label, connector.secret) == ("desk", "Front desk", None)
    assert connector.actions == ACTIONS
    assert list(connector.match_on) == COMMON_SETTINGS["match_on"]
    assert (connector.retries, connector.backoff, connector.timeout) == (5, 10, 30)


def test_secret_and_url_come_from_the_environment():
    settings = {
        "kind": "http",
        "url_env": "DSR_CRM_URL",
        "secret_env": "DSR_CRM_SECRET",
        "actions": ["access", "erase"],
        "match_on": ["email"],
        "retries": 0,
        "backoff": 2.5,
        "timeout": 5,
    }
    crm = registry.build("crm", settings, ENV)
    assert (crm.url, crm.secret) == ("http://127.0.0.1:8701/dsr", "s3cret")
    assert (crm.actions, crm.match_on) == (("access", "erase"), ("email",))
    assert (crm.retries, crm.backoff, crm.timeout) == (0, 2.5, 5)


def test_build_all_builds_every_instance_by_name():
    table = {
        "crm": {**HTTP, "secret_env": "DSR_CRM_SECRET"},
        "sms": {
            "kind": "webhook",
            "url": "http://127.0.0.1:8702/dsr",
            "secret_env": "DSR_CRM_SECRET",
        },
        "desk": {"kind": "manual"},
    }
    built = registry.build_all(table, ENV)
    assert {name: type(c) for name, c in built.items()} == {
        "crm": HttpConnector,
        "sms": WebhookConnector,
        "desk": ManualConnector,
    }
    assert registry.build_all(None, ENV) == {}


@pytest.mark.parametrize(
    "name, settings, message",
    [
        ("CRM", HTTP, "connectors.CRM: the name must be lower-case letters"),
        ("x" * 65, HTTP, "at most 64 characters"),
        ("crm", "http", "connectors.crm: must be a table of settings"),
        (
            "crm",
            {"url": "http://x"},
            "connectors.crm: kind is missing (known: http, manual, sql, webhook)",
        ),
        (
            "x",
            {"kind": "foo"},
            "connectors.x: unknown kind 'foo' (known: http, manual, sql, webhook)",
        ),
        ("crm", {**HTTP, "actions": "access"}, "connectors.crm: actions must be a list"),
        ("crm", {**HTTP, "actions": []}, "connectors.crm: actions is empty"),
        (
            "crm",
            {**HTTP, "actions": ["delete"]},
            "connectors.crm: unknown action 'delete' (known: access,",
        ),
        (
            "billing",
            {
                "kind": "sql",
                "url": "sqlite://",
                "tables": {"t": {"match": {"email": "e"}}},
                "actions": ["object"],
            },
            "connectors.billing: action 'object' is not supported by kind sql "
            "(supported: access, erase, rectify, restrict, lift_restriction)",
        ),
        (
            "crm",
            {**HTTP, "secret_env": "DSR_MISSING"},
            "connectors.crm: environment variable DSR_MISSING is not set",
        ),
        (
            "crm",
            {**HTTP, "secret_env": "EMPTY"},
            "connectors.crm: environment variable EMPTY is empty",
        ),
        (
            "crm",
            {**HTTP, "secret_env": ""},
            "connectors.crm: secret_env must name an environment variable",
        ),
        (
            "crm",
            {**HTTP, "match_on": ["email", "iban"]},
            "connectors.crm: match_on: unknown identifier 'iban'",
        ),
        ("crm", {**HTTP, "match_on": "email"}, "connectors.crm: match_on must be a non-empty list"),
        (
            "crm",
            {**HTTP, "retries": -1},
            "connectors.crm: retries must be a whole number >= 0, not -1",
        ),
        ("crm", {**HTTP, "retries": 1.5}, "retries must be a whole number >= 0, not 1.5"),
        ("crm", {**HTTP, "retries": True}, "retries must be a whole number >= 0, not True"),
        (
            "crm",
            {**HTTP, "backoff": "10"},
            "connectors.crm: backoff must be a number of seconds >= 0, not '10'",
        ),
        ("crm", {**HTTP, "backoff": -0.5}, "backoff must be a number of seconds >= 0, not -0.5"),
        (
            "crm",
            {**HTTP, "timeout": 0},
            "connectors.crm: timeout must be a number of seconds > 0, not 0",
        ),
        ("crm", {**HTTP, "label": 3}, "connectors.crm: label must be a string"),
        (
            "crm",
            {**HTTP, "uri": "http://x"},
            "connectors.crm: unknown setting 'uri' for kind http (allowed: actions, backoff, kind, "
            "label, match_on, retries, secret_env, timeout, url, url_env)",
        ),
        ("crm", {"kind": "http"}, "connectors.crm: setting 'url' is required for kind http"),
        (
            "crm",
            {**HTTP, "url_env": "DSR_CRM_URL"},
            "connectors.crm: give url or url_env, not both",
        ),
        (
            "crm",
            {"kind": "http", "url_env": "DSR_NOPE"},
            "environment variable DSR_NOPE is not set",
        ),
        (
            "crm",
            {"kind": "http", "url": "ftp://x/y"},
            "connectors.crm: url must be an http:// or https:// URL",
        ),
        (
            "sms",
            {"kind": "webhook", "url": "http://x/dsr"},
            "connectors.sms: secret_env is required for kind webhook",
        ),
    ],
)
def test_bad_instances_are_refused_with_a_clear_message(name, settings, message):
    with pytest.raises(ConnectorConfigError, match=re.escape(message)):
        registry.build(name, settings, ENV)


def test_build_all_refuses_a_table_that_is_not_one():
    with pytest.raises(ConnectorConfigError, match=r"connectors must be a table"):
        registry.build_all(["crm"], ENV)


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Install a third-party distribution whose entry point is given by the test."""

    def install(entry_point: str):
        dist = tmp_path / "thirdparty-1.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty\nVersion: 1.0\n")
        (dist / "entry_points.txt").write_text(f"[dsr.connectors]\n{entry_point}\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        importlib.invalidate_caches()
        registry.kinds.cache_clear()

    yield install
    registry.kinds.cache_clear()


@pytest.mark.parametrize(
    "entry_point, message",
    [
        (
            "ldap = thirdparty_missing:LdapConnector",
            "connector kind 'ldap' (thirdparty_missing:LdapConnector) cannot be loaded: "
            "No module named",
        ),
        ("ldap = json:dumps", "connector kind 'ldap' (json:dumps) is not a Connector class"),
        (
            "ldap = connectors.manual:ManualConnector",
            "connector kind 'ldap' (connectors.manual:ManualConnector) says its kind is 'manual'",
        ),
    ],
)
def test_a_broken_entry_point_is_named(plugin, entry_point, message):
    plugin(entry_point)
    with pytest.raises(ConnectorConfigError, match=re.escape(message)):
        registry.kinds()
    with pytest.raises(ConnectorConfigError, match=re.escape(message)):
        registry.build("desk", {"kind": "manual"}, ENV)
