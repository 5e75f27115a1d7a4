"""Build a request's pack: a ZIP written streaming into a sealed file beside its results.

The ZIP goes straight through `zipfile` (data descriptors, since a sealed
stream cannot seek back) into a `SealedWriter` under the request's data key,
into a temporary file that replaces `RESULTS_DIR/<ref>/pack/answer.zip.sealed`
only once complete: a build that fails or is killed leaves no pack, and a
previous pack as it was. Each entry is hashed and counted as it is written,
for the manifest, which goes in last. The retention purge deletes the pack
with the results (it lives in the request's folder, sealed under its key).
"""

import contextlib
import logging
import os
import secrets
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _

from dsr import audit, keys, results, sealed
from dsr.export.csv_table import entry_name, write_csv
from dsr.export.data_json import write_data_json
from dsr.export.errors import PackError
from dsr.export.manifest import NAME as MANIFEST
from dsr.export.manifest import FileEntry, render_manifest
from dsr.export.readme import NAME as README
from dsr.export.readme import render_readme
from dsr.export.selection import LeftOut, Selection, TablePart, select
from dsr.export.streams import HashingWriter, SealedTarget, TextWriter
from dsr.models import DataRequest
from dsr.models.types import utcnow
from workflows.processing_register import Scope

logger = logging.getLogger(__name__)

FOLDER, NAME = "pack", "answer.zip.sealed"
DATA = "data.json"
#: a pack being written; one untouched for this long was left by a killed build
PARTIAL, STALE_SECONDS = ".partial", 3600
#: the person's own copy: readable by its owner only once unzipped
ENTRY_MODE = 0o600


@dataclass(frozen=True)
class Letter:
    """The answer letter that goes in the pack ("access-report.docx" and its DOCX bytes)."""

    name: str
    content: bytes


@dataclass(frozen=True)
class PackInfo:
    """A pack just built: where it is, and what it holds."""

    path: Path
    #: the ZIP's size in bytes and SHA-256, before sealing (what the person downloads)
    size: int
    sha256: str
    records: int
    files: list[FileEntry]


def pack_path(request: DataRequest) -> Path:
    return results.request_folder(request.ref) / FOLDER / NAME


def pack_context() -> str:
    """What the pack is sealed to: its place, like every result file."""
    return f"{FOLDER}/{NAME}"


def build_pack(
    request: DataRequest,
    left_out: Iterable[LeftOut] = (),
    letter: Letter | None = None,
    scope: Scope | None = None,
) -> PackInfo:
    """Build the request's pack, with `letter` when given, of the tables and columns in
    `scope` (None: everything the systems returned; empty: no data files at all, the
    answer of a right that returns no data, such as erasure).

    Records the `export.built` audit event (the caller commits). PackError,
    and no pack, when a result file cannot be read or `left_out` names nothing.
    """
    selection = select(request, left_out, scope)
    try:
        key = keys.data_key(request)
    except keys.KeyUnavailable as exc:
        raise PackError(
            _("The results of this request can no longer be read (%(why)s).", why=exc)
        ) from exc
    path = pack_path(request)
    results.make_private_folder(path.parent)
    sweep(path.parent)
    partial = path.with_name(f"{NAME}.{secrets.token_hex(6)}{PARTIAL}")
    try:
        with results.private_file(partial) as raw:
            writer = sealed.SealedWriter(raw, key, pack_context())
            target = SealedTarget(writer)
            files = write_zip(target, request, selection, letter, scope != {})
            writer.close()
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    info = PackInfo(path, target.tell(), target.sha256, selection.record_total, files)
    audit.record(
        "export.built",
        actor="system",
        request_id=request.id,
        data={
            "size": info.size,
            "sha256": info.sha256,
            "records": info.records,
            "files": len(files) + 1,
            "not_communicated": len(selection.left_out),
        },
    )
    logger.info("pack of %s built: %s records, %s bytes", request.ref, info.records, info.size)
    return info


def sweep(folder: Path, older_than: float = STALE_SECONDS) -> None:
    """Remove what builds killed midway left: partial files untouched for `older_than`
    seconds (a running build writes to its file all along; 0 when none can be running)."""
    for stale in folder.glob(f"*{PARTIAL}"):
        with contextlib.suppress(FileNotFoundError):
            if time.time() - stale.stat().st_mtime >= older_than:
                stale.unlink()


def write_zip(
    target: SealedTarget,
    request: DataRequest,
    selection: Selection,
    letter: Letter | None,
    with_data: bool = True,
) -> list[FileEntry]:
    """Every file of the pack into a ZIP on `target`; returns the manifest's file list."""
    generated_at = utcnow()
    csv_names = [entry_name(system.connector, part.table) for system, part in selection.tables()]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        readme = render_readme(
            request, selection, csv_names, generated_at, letter and letter.name, with_data
        )
        files = [add_bytes(archive, README, readme)]
        if with_data:
            files.extend(add_data(archive, selection, csv_names))
        if letter is not None:
            files.append(add_bytes(archive, letter.name, letter.content))
        add_bytes(archive, MANIFEST, render_manifest(request, selection, files, generated_at))
    return files


def add_data(
    archive: zipfile.ZipFile, selection: Selection, csv_names: list[str]
) -> list[FileEntry]:
    """data.json, then one CSV per table (data.json learns the CSVs' columns)."""
    columns: dict[int, list[str]] = {}

    def data_json(out: TextWriter) -> int:
        columns.update(write_data_json(out, selection))
        return selection.record_total

    files = [add_stream(archive, DATA, data_json, data_json_bound(selection))]
    for name, (_system, part) in zip(csv_names, selection.tables(), strict=True):
        header = columns[id(part)]
        files.append(
            add_stream(
                archive,
                name,
                lambda out, part=part, header=header: write_csv(out, header, part.records()),
                csv_bound(part, header),
            )
        )
    return files


def entry_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ENTRY_MODE << 16
    return info


def add_bytes(archive: zipfile.ZipFile, name: str, data: bytes) -> FileEntry:
    """A small file, given whole; hashed like the others."""
    with archive.open(entry_info(name), "w") as entry:
        hashing = HashingWriter(entry)
        hashing.write(data)
    return FileEntry(name, hashing.sha256, hashing.size)


def add_stream(
    archive: zipfile.ZipFile, name: str, write: Callable[[TextWriter], int], bound: int
) -> FileEntry:
    """One file written as `write` produces it; `bound` (its most bytes) says if it needs ZIP64.

    Written to a stream that cannot seek back, an entry must declare ZIP64
    before it starts, and ordinary ZIP entries are easier for old unzippers.
    """
    with archive.open(entry_info(name), "w", force_zip64=bound >= zipfile.ZIP64_LIMIT) as entry:
        hashing = HashingWriter(entry)
        text = TextWriter(hashing)
        records = write(text)
        text.flush()
    return FileEntry(name, hashing.sha256, hashing.size, records)


def stored_bytes(part: TablePart) -> int:
    """The size of the table's stored file: a little more than its JSON lines."""
    path = results.task_folder(part.task) / results.file_name(part.table)
    return path.stat().st_size if path.exists() else 0


def data_json_bound(selection: Selection) -> int:
    """data.json re-writes each stored line, with a few bytes of indentation, plus the names."""
    return sum(stored_bytes(part) + 8 * part.stored + 4096 for _system, part in selection.tables())


def csv_bound(part: TablePart, header: list[str]) -> int:
    """A cell takes at most twice its JSON text (doubled quotes), an absent one 3 bytes."""
    names = sum(2 * len(key.encode()) + 4 for key in header)
    return 2 * stored_bytes(part) + part.stored * (3 * len(header) + 3) + names + 16
