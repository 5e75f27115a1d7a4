"""What connectors return, on disk: one JSON-lines file per task and table.

A system may return a handful of records or millions; they stream to files
under `RESULTS_DIR` (default `instance/results/<ref>/<task id>/<table>.jsonl`)
as they arrive, never into one database value. The database keeps only the
counts (`Task.record_counts`). An attempt writes into a scratch folder that
replaces the task's folder only when the attempt succeeds, so a failed or
retried attempt leaves no half-written answer behind. The folder of a request
goes when the request is deleted.
"""

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from dsr.models import DataRequest, Task

#: table names used as file names as they are; anything else (a remote system
#: chooses its table names) is hashed, so a name can never escape the folder
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def root() -> Path:
    return Path(current_app.config["RESULTS_DIR"])


def request_folder(ref: str) -> Path:
    return root() / ref


def task_folder(task: Task) -> Path:
    return request_folder(task.request.ref) / task.id


def file_name(table: str) -> str:
    if SAFE_NAME.fullmatch(table):
        return f"{table}.jsonl"
    return f"t-{hashlib.sha256(table.encode()).hexdigest()[:24]}.jsonl"


class ResultWriter:
    """A `RecordSink` for one attempt of one task; `commit()` makes its files the task's."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.scratch = folder.with_name(f"{folder.name}.partial")
        self.counts: dict[str, int] = {}
        self._files: dict[str, IO[str]] = {}

    def write(self, table: str, record: Mapping[str, Any]) -> None:
        handle = self._files.get(table)
        if handle is None:
            if not self._files:  # the first record: most systems know nobody, and write none
                shutil.rmtree(self.scratch, ignore_errors=True)
                self.scratch.mkdir(parents=True)
            handle = self._files[table] = open(  # noqa: SIM115 - closed in close()
                self.scratch / file_name(table), "w", encoding="utf-8"
            )
            self.counts[table] = 0
        handle.write(json.dumps(record, ensure_ascii=False, default=str))
        handle.write("\n")
        self.counts[table] += 1

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def commit(self) -> dict[str, int]:
        """Replace the task's folder with this attempt's files; return the counts."""
        had_files = bool(self._files)
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        if had_files:
            os.replace(self.scratch, self.folder)
        return dict(self.counts)

    def discard(self) -> None:
        self.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> "ResultWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """Whatever was not committed is thrown away."""
        self.discard()


def writer(task: Task) -> ResultWriter:
    return ResultWriter(task_folder(task))


def records(task: Task, table: str, folder: Path | None = None) -> Iterator[dict]:
    """Every record a task returned for `table`, read lazily (from `folder`, if given)."""
    path = (folder or task_folder(task)) / file_name(table)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def preview(task: Task, limit: int = 5) -> dict[str, list[dict]]:
    """The first `limit` records of each table the task returned."""
    return {table: list(islice(records(task, table), limit)) for table in task.record_counts or {}}


# The files go with the case: a deleted request's folder is removed once the deletion
# is committed (not before: a rolled-back deletion keeps its files).
DELETED = "dsr.results.deleted"


@event.listens_for(DataRequest, "after_delete")
def _remember_deleted(_mapper, _connection, request: DataRequest) -> None:
    object_session(request).info.setdefault(DELETED, []).append(request_folder(request.ref))


@event.listens_for(Session, "after_commit")
def _remove_deleted(session: Session) -> None:
    for folder in session.info.pop(DELETED, []):
        shutil.rmtree(folder, ignore_errors=True)


@event.listens_for(Session, "after_rollback")
def _keep_deleted(session: Session) -> None:
    session.info.pop(DELETED, None)
