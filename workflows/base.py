"""The definition of a request type: one class per right, as Indico's request types.

A definition says what the type is called, which law it rests on, what the
subject must tell us about it (`details_schema`) and whether processing starts
by itself once the email address is confirmed. The request row stores only the
type's `name`; the registry finds the definition again.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from marshmallow import Schema

from connectors.base import Connector
from workflows.processing_register import Scope


@dataclass(frozen=True)
class Case:
    """What a type plans from, as plain data (workflows know no database rows)."""

    #: the instance's processing register (Art. 30)
    register: Mapping
    #: the request's `details`, as the person gave them
    details: Mapping = field(default_factory=dict)
    #: a handler's decisions on it (`DataRequest.decisions`)
    decisions: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One task to plan: an action on a system, what the system is told (`details`), or
    why it is skipped (a system that does not do the action)."""

    connector: Connector
    action: str
    details: Mapping = field(default_factory=dict)
    skip_reason: str | None = None


def step(connector: Connector, action: str, details: Mapping | None = None) -> Step:
    """The task for `action` on `connector`, skipped when the system does not do it."""
    if action in connector.actions:
        return Step(connector, action, dict(details or {}))
    return Step(connector, action, {}, f"this system does not support {action!r}")


class RequestType:
    """Base of the eight request types; subclasses fill in the class attributes."""

    #: the public type string (the API's and the database's)
    name: str = ""
    #: the right in plain words, translated lazily
    title = ""
    #: one sentence the form shows under the title
    description = ""
    #: the legal basis shown on the form and in letters
    legal_basis: str = ""
    #: marshmallow schema of the `details` object; empty for types that need none
    details_schema: type[Schema] = Schema
    #: what the form calls each of the type's inputs, by dotted path ("details.ground";
    #: `#` stands for a row number), for labels and the error summary
    field_labels: Mapping[str, str] = {}
    #: the fixed choices the form offers, by input path: {value: label}
    field_choices: Mapping[str, Mapping[str, str]] = {}
    #: start processing as soon as the request is verified, without a handler, unless the
    #: instance's `[processing] auto_start` list says otherwise
    auto_start: bool = False
    #: what processing asks of every connector that supports it
    connector_actions: tuple[str, ...] = ()
    #: what comes once every task has finished and a handler releases the answer:
    #: "pack" builds the answer pack (`dsr.export`) and mails the person a download
    #: link; None: the type has no pack (its case is closed otherwise)
    answer: str | None = None
    #: the letter that goes in the pack, by its name in `dsr.letters` ("access"), or None
    answer_letter: str | None = None
    #: whether the pack carries the systems' data (access, portability) or only the letter
    answer_holds_data: bool = False

    @classmethod
    def starts_itself(cls, details: dict) -> bool:
        """For a type set to start by itself: whether this request may (objection: marketing)."""
        return True

    @classmethod
    def plan(cls, connectors: Iterable[Connector], case: Case) -> list[Step]:
        """The work processing starts with: by default each of `connector_actions` on every
        system, skipped (with the reason) where the system does not do it."""
        return [step(c, a) for c in connectors for a in cls.connector_actions]

    @classmethod
    def holds_data(cls, case: Case) -> bool:
        """Whether this request's pack carries the systems' data: `answer_holds_data`,
        unless the type decides per request (post-mortem: a hand-over does)."""
        return cls.answer_holds_data

    @classmethod
    def answer_scope(cls, case: Case) -> Scope | None:
        """What of the systems' answers goes in the pack: None for everything (access),
        else the tables and columns that may go out (portability; none: a letter only)."""
        return None if cls.holds_data(case) else {}

    @classmethod
    def missing_decision(cls, details: Mapping, decisions: Mapping) -> str | None:
        """What a handler must decide before processing starts (a sentence), or None."""
        return None

    @classmethod
    def when_done(cls, case: Case) -> frozenset[str]:
        """What the engine does once every task has succeeded, as names (`dsr.processing.
        finishing`): "suppress" keeps the person's identifiers as suppression records,
        "restrict" puts the restriction in force, "notify_recipients" tells the register's
        recipients (Art. 19), "register_directives" records post-mortem directives and
        completes the request, "release" sends the answer without a handler (rights applied
        at once: direct-marketing objections, consent withdrawals), if at least one system
        did it and none was skipped for an identifier still to prove."""
        return frozenset()

    @classmethod
    def form_template(cls) -> str:
        """The template holding this type's form fields."""
        return f"public/details/{cls.name}.html"
