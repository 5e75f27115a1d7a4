"""Connector kinds, found through entry points, and the instances the instance TOML declares.

A kind is any `Connector` subclass registered in the entry-point group
`dsr.connectors` (the built-in ones in our own `pyproject.toml`, third-party
ones in theirs). `build_all` turns the `[connectors.<name>]` tables into
ready instances, or raises `ConnectorConfigError` with a message that starts
with `connectors.<name>: ` and says what to change.

A kind may let some of its settings be read from the environment: a setting
listed in the class attribute `env_settings` (such as `url`) may instead be
given as `<setting>_env = "VARIABLE"`, so that passwords stay out of the TOML.
"""

import functools
import os
import re
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from connectors.base import ACTIONS, COMMON_SETTINGS, Connector, ConnectorConfigError
from connectors.matching import IDENTIFIER_KINDS

GROUP = "dsr.connectors"
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@functools.cache
def kinds() -> dict[str, type[Connector]]:
    """{kind name: class} of every installed kind, loaded once."""
    found = {}
    for entry in entry_points(group=GROUP):
        try:
            cls = entry.load()
        except Exception as exc:  # noqa: BLE001 - any import error of a plug-in
            raise ConnectorConfigError(
                f"connector kind {entry.name!r} ({entry.value}) cannot be loaded: {exc}"
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise ConnectorConfigError(
                f"connector kind {entry.name!r} ({entry.value}) is not a Connector class"
            )
        if cls.kind != entry.name:
            raise ConnectorConfigError(
                f"connector kind {entry.name!r} ({entry.value}) says its kind is {cls.kind!r}"
            )
        found[entry.name] = cls
    return dict(sorted(found.items()))


def build_all(
    connectors_table: Mapping[str, Any] | None, environ: Mapping[str, str] = os.environ
) -> dict[str, Connector]:
    """Every instance of the `[connectors]` table, by name; all or nothing."""
    if connectors_table is None:
        return {}
    if not isinstance(connectors_table, Mapping):
        raise ConnectorConfigError("connectors must be a table of [connectors.<name>] tables")
    built: dict[str, Connector] = {}
    try:
        for name, settings in connectors_table.items():
            built[name] = build(name, settings, environ)
    except ConnectorConfigError:
        for connector in built.values():
            connector.close()
        raise
    return built


def build(name: str, settings: Any, environ: Mapping[str, str] = os.environ) -> Connector:
    """One instance from its `[connectors.<name>]` table."""
    try:
        cls, merged, secret = _check(name, settings, environ)
        return cls(name, merged, secret)
    except ConnectorConfigError as exc:
        raise ConnectorConfigError(f"connectors.{name}: {exc}") from None


def _check(name, settings, environ) -> tuple[type[Connector], dict, str | None]:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConnectorConfigError(
            "the name must be lower-case letters, digits and _, starting with a letter, "
            "at most 64 characters"
        )
    if not isinstance(settings, Mapping):
        raise ConnectorConfigError("must be a table of settings")
    cls = _kind(settings.get("kind"))
    given = _from_environ(cls, settings, environ)
    _check_keys(cls, given)
    merged = {**COMMON_SETTINGS, **cls.settings_defaults, **given}
    missing = [
        key for key, value in merged.items() if value is None and key in cls.settings_defaults
    ]
    if missing:
        raise ConnectorConfigError(f"setting {missing[0]!r} is required for kind {cls.kind}")
    _check_actions(cls, merged["actions"])
    _check_match_on(merged["match_on"])
    _check_numbers(merged)
    if merged["label"] is not None and not isinstance(merged["label"], str):
        raise ConnectorConfigError("label must be a string")
    return cls, merged, _secret(merged["secret_env"], environ)


def _kind(kind) -> type[Connector]:
    known = kinds()
    if kind is None:
        raise ConnectorConfigError(f"kind is missing (known: {', '.join(known)})")
    if kind not in known:
        raise ConnectorConfigError(f"unknown kind {kind!r} (known: {', '.join(known)})")
    return known[kind]


def _from_environ(cls, settings: Mapping, environ: Mapping[str, str]) -> dict:
    """The settings with each `<setting>_env` replaced by the variable's value."""
    given = dict(settings)
    for key in cls.env_settings:
        variable = given.pop(f"{key}_env", None)
        if variable is None:
            continue
        if key in given:
            raise ConnectorConfigError(f"give {key} or {key}_env, not both")
        given[key] = _variable(f"{key}_env", variable, environ)
    return given


def _check_keys(cls, given: Mapping) -> None:
    allowed = [*COMMON_SETTINGS, *cls.settings_defaults]
    allowed += [f"{key}_env" for key in cls.env_settings]
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ConnectorConfigError(
            f"unknown setting {unknown[0]!r} for kind {cls.kind} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def _check_actions(cls, actions) -> None:
    if actions is None:
        return
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise ConnectorConfigError('actions must be a list of action names, e.g. ["access"]')
    if not actions:
        raise ConnectorConfigError(
            f"actions is empty; leave it out to use every action kind {cls.kind} supports"
        )
    for action in actions:
        if action not in ACTIONS:
            raise ConnectorConfigError(f"unknown action {action!r} (known: {', '.join(ACTIONS)})")
        if action not in cls.supported_actions():
            raise ConnectorConfigError(
                f"action {action!r} is not supported by kind {cls.kind} "
                f"(supported: {', '.join(cls.supported_actions())})"
            )


def _check_match_on(match_on) -> None:
    if not isinstance(match_on, list) or not match_on:
        raise ConnectorConfigError(
            f"match_on must be a non-empty list of {', '.join(IDENTIFIER_KINDS)}"
        )
    for kind in match_on:
        if kind not in IDENTIFIER_KINDS:
            raise ConnectorConfigError(
                f"match_on: unknown identifier {kind!r} (known: {', '.join(IDENTIFIER_KINDS)})"
            )


def _check_numbers(merged: Mapping) -> None:
    """retries: a whole number >= 0; backoff: seconds >= 0; timeout: seconds > 0."""
    for key in ("retries", "backoff", "timeout"):
        value = merged[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if key == "retries" and not (isinstance(value, int) and number and value >= 0):
            raise ConnectorConfigError(f"retries must be a whole number >= 0, not {value!r}")
        if not number or value < 0 or (key == "timeout" and value == 0):
            raise ConnectorConfigError(
                f"{key} must be a number of seconds {'> 0' if key == 'timeout' else '>= 0'}, "
                f"not {value!r}"
            )


def _secret(variable, environ: Mapping[str, str]) -> str | None:
    return None if variable is None else _variable("secret_env", variable, environ)


def _variable(setting: str, variable, environ: Mapping[str, str]) -> str:
    """The value of the environment variable a `*_env` setting names."""
    if not isinstance(variable, str) or not variable:
        raise ConnectorConfigError(f"{setting} must name an environment variable")
    value = environ.get(variable)
    if value is None:
        raise ConnectorConfigError(f"environment variable {variable} is not set")
    if not value.strip():
        raise ConnectorConfigError(f"environment variable {variable} is empty")
    return value
