"""Taking an answer pack apart in tests: its files checked against the manifest, its
CSVs parsed back, its letter read with python-docx."""

import csv
import hashlib
import io
import json
import zipfile

import docx


def unzip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def checked_files(archive: zipfile.ZipFile) -> dict[str, bytes]:
    """Every file by name, once the ZIP's CRCs and the manifest's hashes and sizes hold,
    and the manifest lists every file but itself."""
    assert archive.testzip() is None
    files = {name: archive.read(name) for name in archive.namelist()}
    listed = {entry["name"]: entry for entry in json.loads(files["manifest.json"])["files"]}
    assert set(files) == {*listed, "manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest(), name
        assert entry["size"] == len(files[name]), name
    return files


def parse_csv(data: bytes) -> list[list[str]]:
    """A CSV of the pack (UTF-8 with its byte order mark) as rows of cells."""
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def letter_text(archive: zipfile.ZipFile) -> str:
    """The letter's paragraphs and table cells, one per line."""
    document = docx.Document(io.BytesIO(archive.read("access-report.docx")))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def letter_rows(archive: zipfile.ZipFile) -> list[tuple[str, ...]]:
    """Every row of the letter's tables, as the texts of its cells."""
    document = docx.Document(io.BytesIO(archive.read("access-report.docx")))
    return [
        tuple(cell.text for cell in row.cells) for table in document.tables for row in table.rows
    ]


#: the first characters that make a spreadsheet run a cell, which the pack neutralises
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_cell(value) -> str:
    """What a value that a system returned looks like in the pack's CSV."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)
