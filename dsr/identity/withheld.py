"""Answers withheld because some of their records carry another email than the verified one.

A system that finds people by a proven phone number or customer number may
still hold that record under another email address: a shared phone, a
recycled number, a typing error. Such a record is not released without a
handler's decision. The check cannot tell which of a system's records belong
to a withheld one (a customer's trips carry no email), so the whole answer
of the task is withheld: it is written through the ordinary `ResultWriter`,
then moved aside to `<task id>.withheld` beside the task's folder. A handler
releases it into the results ("they belong to this person") or discards it;
each decision is an audit event. Release is possible only while the request
is being handled (`processing` or `review`) and its results are kept.

A record carries another email when any of its string values, at any depth
(nested objects, lists), is an email address other than the one looked for (`claims.subject_email`):
whatever the field is called (`contactEmail`, `emails: [...]`, `contact.email`).
"""

import os
import re
import shutil
from collections.abc import Mapping
from itertools import islice
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from connectors.matching import normalise_email
from dsr import audit, results
from dsr.extensions import db
from dsr.identity import claims
from dsr.models import DataRequest, HeldStatus, Task, WithheldAnswer
from dsr.models.types import utcnow
from dsr.status import RequestStatus

#: a whole value that is an email address: local part, @, dotted domain of letters, digits, -
EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
#: the request statuses in which a withheld answer may still join the results
RELEASABLE = frozenset({RequestStatus.PROCESSING, RequestStatus.REVIEW})


class WithheldError(Exception):
    """A decision on a withheld answer that cannot be made; the message says why."""


class NotHeld(WithheldError):
    """There is no withheld answer waiting for a decision."""


class ReleaseRefused(WithheldError):
    """The request is no longer handled, or its results are deleted: nothing may join them."""


def strings(value: Any):
    """Every string in `value`, through nested mappings and lists (keys excluded)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def carries_other_email(record: Mapping[str, Any], email: str) -> bool:
    """Whether any value of the record, at any depth, is an email address other than
    `email` (normalised)."""
    return any(
        EMAIL.fullmatch(value.strip()) and normalise_email(value) != email
        for value in strings(record)
    )


def held_folder(task: Task) -> Path:
    return results.request_folder(task.request.ref) / f"{task.id}.withheld"


class GuardedWriter:
    """A `RecordSink` for one attempt of one task, around `results.ResultWriter`.

    `commit()` returns the counts the task keeps: its answer's, or `{}` when
    the answer was withheld (then a `WithheldAnswer` row says how many).
    """

    def __init__(self, task: Task):
        self.task = task
        self.email = normalise_email(claims.subject_email(task.request))
        self.writer = results.writer(task)
        self.mismatched = 0

    def write(self, table: str, record: Mapping[str, Any]) -> None:
        if carries_other_email(record, self.email):
            self.mismatched += 1
        self.writer.write(table, record)

    def commit(self) -> dict[str, int]:
        counts = self.writer.commit()
        previous = db.session.scalar(
            select(WithheldAnswer).where(WithheldAnswer.task_id == self.task.id)
        )
        if previous is not None and previous.status == HeldStatus.HELD:
            shutil.rmtree(held_folder(self.task), ignore_errors=True)
            db.session.delete(previous)
            db.session.flush()
        if not self.mismatched:
            return counts
        folder, held = results.task_folder(self.task), held_folder(self.task)
        if folder.exists():
            os.replace(folder, held)
        if previous is not None and previous.status != HeldStatus.HELD:
            db.session.delete(previous)
            db.session.flush()
        db.session.add(
            WithheldAnswer(
                task_id=self.task.id,
                record_counts=counts,
                mismatched=self.mismatched,
                status=HeldStatus.HELD,
            )
        )
        audit.record(
            "identity.answer_withheld",
            actor="system",
            request_id=self.task.request_id,
            data={
                "task": self.task.id,
                "connector": self.task.connector,
                "records": sum(counts.values()),
                "other_email": self.mismatched,
            },
        )
        return {}

    def discard(self) -> None:
        self.writer.discard()

    def __enter__(self) -> "GuardedWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.writer.__exit__(exc_type, exc, tb)


def writer(task: Task) -> GuardedWriter:
    """The sink a task's records go through (in place of `results.writer`)."""
    return GuardedWriter(task)


def preview(answer: WithheldAnswer, limit: int = 5) -> dict[str, list[dict]]:
    """The first `limit` withheld records of each table, for the handler to decide on."""
    folder = held_folder(answer.task)
    return {
        table: list(islice(results.records(answer.task, table, folder), limit))
        for table in answer.record_counts or {}
    }


def for_request(request: DataRequest) -> dict[str, WithheldAnswer]:
    """Task id -> its withheld answer, for the request's tasks that have one."""
    query = select(WithheldAnswer).join(Task).where(Task.request_id == request.id)
    return {answer.task_id: answer for answer in db.session.scalars(query)}


def answer_of(task: Task) -> WithheldAnswer | None:
    """The task's withheld answer, if it had one."""
    return db.session.scalar(select(WithheldAnswer).where(WithheldAnswer.task_id == task.id))


def waiting(task: Task) -> WithheldAnswer:
    answer = answer_of(task)
    if answer is None or answer.status != HeldStatus.HELD:
        raise NotHeld(_("Nothing of this task is withheld and waiting for a decision."))
    return answer


def decide(answer: WithheldAnswer, status: HeldStatus, actor: str) -> None:
    answer.status, answer.decided_by, answer.decided_at = status, actor, utcnow()
    task = answer.task
    audit.record(
        f"identity.answer_{status}",
        actor=actor,
        request_id=task.request_id,
        data={"task": task.id, "connector": task.connector, "records": answer.record_total},
    )


def release(task: Task, *, actor: str) -> None:
    """The handler holds the withheld records to be this person's: they join the results."""
    answer = waiting(task)
    request = task.request
    if request.status not in RELEASABLE or request.results_deleted_at is not None:
        raise ReleaseRefused(
            _(
                "The request is no longer being handled or its results are deleted: "
                "withheld records can only be discarded."
            )
        )
    folder, held = results.task_folder(task), held_folder(task)
    shutil.rmtree(folder, ignore_errors=True)
    if held.exists():
        os.replace(held, folder)
    task.record_counts = dict(answer.record_counts)
    decide(answer, HeldStatus.RELEASED, actor)


def discard(task: Task, *, actor: str) -> None:
    """The handler holds the withheld records not to be this person's: they are deleted."""
    answer = waiting(task)
    shutil.rmtree(held_folder(task), ignore_errors=True)
    decide(answer, HeldStatus.DISCARDED, actor)
