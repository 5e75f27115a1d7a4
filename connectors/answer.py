"""The answer body a system sends: a callback, or the reply of the http kind.

    {"status": "succeeded" | "failed", "records": {TABLE: [{...}, ...]},
     "error": "...", "outcome": "...", "task_id": "..."}

`records`, `error`, `outcome` and `task_id` are optional (null counts as
absent); other top-level keys are ignored. A `task_id` must be the task the
answer is read for: a signed answer cannot then be replayed on another task.

`read_answer` parses the body as it arrives (ijson), handing each record to
the sink as soon as it is complete, so memory stays flat however many records
a system sends. The price of streaming: when the body turns out malformed
half-way (or names another task at its end), the sink already holds the
records before the fault; the caller discards them along with the attempt.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import ijson

from connectors.base import ConnectorError, RecordSink
from connectors.redact import redact_text

STATUSES = ("succeeded", "failed")
_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")


class MalformedAnswer(ConnectorError):
    """The answer body is not what the protocol says; the message says how."""


class TaskMismatch(MalformedAnswer):
    """The answer names another task than the one it was sent for."""


@dataclass(frozen=True)
class Answer:
    """What an answer says besides its records."""

    status: str
    error: str = ""
    outcome: str = ""
    task_id: str = ""


def read_answer(stream: BinaryIO, sink: RecordSink, task_id: str | None = None) -> Answer:
    """Parse an answer from a binary file-like `stream`, writing its records to `sink`.

    With `task_id`, an answer that names another task raises TaskMismatch.
    """
    events = ijson.basic_parse(stream, use_float=True)
    try:
        answer = _read(events, sink)
    except ijson.JSONError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "incomplete"
        raise MalformedAnswer(f"the answer is not valid JSON ({reason})") from None
    if task_id is not None and answer.task_id and answer.task_id != task_id:
        raise TaskMismatch(f'"task_id" names task {answer.task_id!r}, not this one ({task_id!r})')
    return answer


def _read(events: Iterator[tuple[str, Any]], sink: RecordSink) -> Answer:
    if next(events, (None, None))[0] != "start_map":
        raise MalformedAnswer("the answer must be a JSON object")
    fields: dict[str, str] = {}
    for event, key in events:
        if event == "end_map":
            break
        if key == "records":
            _read_records(events, sink)
        elif key in ("status", "error", "outcome", "task_id"):
            fields[key] = _read_text(events, key)
        else:
            _skip(events)
    for _ in events:  # nothing may follow the object; ijson raises on anything but blanks
        pass
    status = fields.get("status")
    if status not in STATUSES:
        found = "missing" if not status else repr(status)
        raise MalformedAnswer(f'"status" must be "succeeded" or "failed", not {found}')
    # a system's own words are shown to every viewer: no credentials in them either
    return Answer(
        status,
        redact_text(fields.get("error", "")),
        redact_text(fields.get("outcome", "")),
        fields.get("task_id", ""),
    )


def _read_text(events, key: str) -> str:
    event, value = next(events)
    if event == "null":
        return ""
    if event != "string":
        raise MalformedAnswer(f'"{key}" must be a string')
    return value


def _read_records(events, sink: RecordSink) -> None:
    event, _ = next(events)
    if event == "null":
        return
    if event != "start_map":
        raise MalformedAnswer('"records" must be an object of {"TABLE": [records]}')
    for event, table in events:
        if event == "end_map":
            return
        if next(events)[0] != "start_array":
            raise MalformedAnswer(f'"records.{table}" must be an array of objects')
        for index, (event, _) in enumerate(events):
            if event == "end_array":
                break
            if event != "start_map":
                raise MalformedAnswer(f'"records.{table}[{index}]" must be an object')
            sink.write(table, _build(events))


def _build(events) -> dict:
    """The object whose start_map was just read, built from the following events."""
    builder = ijson.ObjectBuilder()
    builder.event("start_map", None)
    depth = 1
    for event, value in events:
        builder.event(event, value)
        depth += (event in _OPEN) - (event in _CLOSE)
        if depth == 0:
            break
    return builder.value


def _skip(events) -> None:
    """Pass over one value (of a key we do not know)."""
    depth = 0
    for event, _ in events:
        depth += (event in _OPEN) - (event in _CLOSE)
        if depth == 0:
            return
