"""What connectors return, on disk: one JSON-lines file per task and table.

A system may return a handful of records or millions; they stream to files
under `RESULTS_DIR` (default `instance/results/<ref>/<task id>/<table>.jsonl`)
as they arrive, never into one database value. The database keeps only the
counts (`Task.record_counts`). An attempt writes into a scratch folder that
replaces the task's folder only when the attempt succeeds, so a failed or
retried attempt leaves no half-written answer behind.

Only the engine's own user may read them (folders 0700, files 0600), and
each file is sealed (`dsr.sealed`) under its request's data key (`dsr.keys`),
with its place (`<task id>/<file>`) as context: the retention purge
(`dsr.retention`) deletes the request's folder and forgets the key.
"""

import hashlib
import io
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

from dsr import keys, sealed
from dsr.models import DataRequest, Task

#: table names used as file names as they are; anything else (a remote system
#: chooses its table names) is hashed, so a name can never escape the folder
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: only the engine's user reads or lists what systems returned
FOLDER_MODE, FILE_MODE = 0o700, 0o600


class ResultsUnreadable(Exception):
    """A task's results cannot be read: the key is gone, or a file was altered or cut."""


def root() -> Path:
    return Path(current_app.config["RESULTS_DIR"])


def request_folder(ref: str) -> Path:
    return root() / ref


def task_folder(task: Task) -> Path:
    return request_folder(task.request.ref) / task.id


def make_private_folder(folder: Path) -> None:
    """Create `folder` and every missing parent under the root, each 0700 (the root too)."""
    top = root()
    missing = [folder, *folder.parents]
    missing = missing[: missing.index(top) + 1] if top in missing else [folder]
    for path in reversed(missing):
        path.mkdir(mode=FOLDER_MODE, exist_ok=True)
        path.chmod(FOLDER_MODE)  # mkdir leaves an existing one as it was; umask aside


def file_name(table: str) -> str:
    if SAFE_NAME.fullmatch(table):
        return f"{table}.jsonl"
    return f"t-{hashlib.sha256(table.encode()).hexdigest()[:24]}.jsonl"


class ResultWriter:
    """A `RecordSink` for one attempt of one task; `commit()` makes its files the task's."""

    def __init__(self, folder: Path, key: bytes):
        self.folder = folder
        self.scratch = folder.with_name(f"{folder.name}.partial")
        self.counts: dict[str, int] = {}
        self._key = key
        self._files: dict[str, sealed.SealedWriter] = {}

    def write(self, table: str, record: Mapping[str, Any]) -> None:
        handle = self._files.get(table)
        if handle is None:
            if not self._files:  # the first record: most systems know nobody, and write none
                shutil.rmtree(self.scratch, ignore_errors=True)
                make_private_folder(self.scratch)
            name = file_name(table)
            handle = self._files[table] = sealed.SealedWriter(
                private_file(self.scratch / name), self._key, file_context(self.folder, name)
            )
            self.counts[table] = 0
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        handle.write(line.encode())
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


def private_file(path: Path) -> IO[bytes]:
    """A new file only the engine's user may read."""
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb")


def file_context(folder: Path, name: str) -> str:
    """What a file is sealed to: its task and table, so it cannot be passed off as another."""
    return f"{folder.name}/{name}"


def writer(task: Task) -> ResultWriter:
    """A sink for one attempt (a request stored before data keys existed gets its key here).

    `keys.KeyUnavailable` once the retention purge has deleted the request's results.
    """
    return ResultWriter(task_folder(task), keys.ensure_data_key(task.request))


def records(task: Task, table: str, folder: Path | None = None) -> Iterator[dict]:
    """Every record a task returned for `table`, read lazily; ResultsUnreadable on any fault.

    `folder` reads them from elsewhere than the task's folder (its withheld
    answer); a file stays sealed to its task's place, wherever it was moved.
    """
    folder, name = folder or task_folder(task), file_name(table)
    if not (folder / name).exists():
        return
    try:
        key = keys.data_key(task.request)
        with open(folder / name, "rb") as handle:
            raw = sealed.SealedReader(handle, key, file_context(task_folder(task), name))
            with io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8") as lines:
                for line in lines:
                    yield json.loads(line)
    except (keys.KeyUnavailable, sealed.SealedError) as exc:
        raise ResultsUnreadable(str(exc)) from exc


def preview(task: Task, limit: int = 5) -> dict[str, list[dict]]:
    """The first `limit` records of each table the task returned."""
    return {table: list(islice(records(task, table), limit)) for table in task.record_counts or {}}


def delete_request_files(request: DataRequest) -> int:
    """Remove everything stored on disk for a request (results, and later its exports).

    Returns how many files went.
    """
    folder = request_folder(request.ref)
    count = sum(1 for path in folder.rglob("*") if path.is_file()) if folder.exists() else 0
    shutil.rmtree(folder, ignore_errors=True)
    return count


# Requests are never deleted (the retention purge anonymises them in place), but should
# one be, its folder is removed once the deletion is committed (not before: a
# rolled-back deletion keeps its files).
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
