"""The connector instances the instance TOML declares, built once per app.

Built at start-up so that a wrong declaration (unknown kind, unsupported
action, a secret missing from the environment) stops the app with a clear
message instead of failing the first task that needs it.
"""

from flask import Flask, current_app

from connectors.base import Connector, ConnectorConfigError
from connectors.registry import build_all
from dsr.config import ConfigError
from workflows.base import Case


def init_app(app: Flask) -> None:
    try:
        app.extensions["dsr.connectors"] = build_all(app.config["INSTANCE"].get("connectors", {}))
    except ConnectorConfigError as exc:
        raise ConfigError(f"DSR_CONFIG: {exc}") from exc


def all_connectors() -> dict[str, Connector]:
    """Every declared connector, by name, in declaration order."""
    return current_app.extensions["dsr.connectors"]


def get(name: str) -> Connector | None:
    """A declared connector, or None if the configuration no longer declares it."""
    return all_connectors().get(name)


def register() -> dict:
    """The instance's processing register (Art. 30): activities and data categories."""
    return current_app.config["INSTANCE"].get("register") or {}


def case_of(request) -> Case:
    """`request` as its type's workflow reads it: the register, its details and decisions."""
    return Case(register(), request.details or {}, request.decisions or {})
