"""The connector protocol: what the engine asks of a system that holds personal data.

A connector kind is a subclass of `Connector` with a `kind` name and one method
per action it supports (`access`, `erase`, ...). The engine builds one instance
per `[connectors.<name>]` table of the instance TOML and calls
`run(order, sink)` from an RQ job. The method either finishes now and returns a
`Result` (records go to `sink` as they are read, so size does not matter), or
returns `PENDING`: the system will call the engine back with its answer.

Raising `ConnectorError` fails this attempt with a readable message; the engine
retries with backoff up to the instance's `retries`. A person the system does
not know is not an error: return a `Result` with nothing written to the sink.

Nothing here knows Flask or the engine's database: a connector gets plain data
in (`TaskOrder`) and gives plain data back.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from connectors.matching import Subject
from connectors.redact import redact_text

#: every action a connector may support, in the DESIGN's words
ACTIONS = (
    "access",
    "erase",
    "rectify",
    "restrict",
    "lift_restriction",
    "object",
    "withdraw_consent",
)

#: settings every instance may give, whatever its kind, with their defaults
COMMON_SETTINGS = {
    "kind": None,
    "actions": None,
    "secret_env": None,
    "match_on": ["email", "phone", "customer_number"],
    "retries": 5,
    "backoff": 10,
    "timeout": 30,
    "label": None,
}


class ConnectorError(Exception):
    """This attempt failed; the message is shown to handlers and the task is retried.

    Any URL in the message is redacted (`connectors.redact`): it reaches every viewer
    and the audit chain.
    """

    def __init__(self, message: str):
        super().__init__(redact_text(str(message)))


class ConnectorConfigError(ValueError):
    """A connector instance is declared wrongly; the message says what to change (with
    any URL in it redacted: it goes to logs and consoles)."""

    def __init__(self, message: str):
        super().__init__(redact_text(str(message)))


class RecordSink(Protocol):
    """Where a connector writes the records it finds, one at a time."""

    def write(self, table: str, record: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class TaskOrder:
    """One task as a connector sees it: who, what, and where to answer later."""

    task_id: str
    request_ref: str
    action: str
    subject: Subject
    details: Mapping[str, Any] = field(default_factory=dict)
    callback_url: str = ""

    def notice(self) -> dict:
        """The body of a webhook notice (DESIGN: task_id, request_ref, action, subject,
        details, callback_url)."""
        return {
            "task_id": self.task_id,
            "request_ref": self.request_ref,
            "action": self.action,
            "subject": self.subject.as_json(),
            "details": dict(self.details),
            "callback_url": self.callback_url,
        }


@dataclass(frozen=True)
class Result:
    """A finished action. `outcome` says in a few words what the system did."""

    outcome: str = ""


class _Pending:
    """The system accepted the task and will answer through the callback endpoint."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "PENDING"


PENDING = _Pending()


class Connector:
    """Base of every connector kind.

    Subclasses set `kind`, define the action methods they support
    (`def access(self, order, sink) -> Result | PENDING`), and may read their
    own settings in `configure`, raising `ConnectorConfigError` for bad ones.
    """

    #: the `kind = "..."` of the instance TOML
    kind: ClassVar[str] = ""
    #: kind-specific settings and their defaults (None: required)
    settings_defaults: ClassVar[dict[str, Any]] = {}
    #: whether the kind's answers arrive later, through the callback endpoint
    calls_back: ClassVar[bool] = False
    #: settings that may instead be given as `<setting>_env = "VARIABLE"` (credentials in URLs)
    env_settings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, settings: Mapping[str, Any], secret: str | None = None):
        self.name = name
        self.secret = secret
        self.settings = dict(settings)
        self.label = settings.get("label") or name
        self.actions: tuple[str, ...] = tuple(settings.get("actions") or self.supported_actions())
        self.match_on: tuple[str, ...] = tuple(
            settings.get("match_on") or COMMON_SETTINGS["match_on"]
        )
        self.retries = int(settings.get("retries", COMMON_SETTINGS["retries"]))
        self.backoff = float(settings.get("backoff", COMMON_SETTINGS["backoff"]))
        self.timeout = float(settings.get("timeout", COMMON_SETTINGS["timeout"]))
        self.configure(self.settings)

    @classmethod
    def supported_actions(cls) -> tuple[str, ...]:
        """The actions this kind has a method for."""
        return tuple(a for a in ACTIONS if callable(getattr(cls, a, None)))

    def configure(self, settings: dict) -> None:
        """Read and check the kind's own settings; raise ConnectorConfigError if wrong."""

    def can_match(self, subject: Subject) -> bool:
        """Whether the subject gives at least one identifier this system matches on."""
        return any(subject.values(kind) for kind in self.match_on)

    def run(self, order: TaskOrder, sink: RecordSink) -> "Result | _Pending":
        """Carry out `order.action`; the engine calls this from a job."""
        if order.action not in self.actions:
            raise ConnectorError(f"{self.name} does not do {order.action!r}")
        return getattr(self, order.action)(order, sink)

    def close(self) -> None:
        """Release connections and pools; called when the engine stops."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
