"""The answer pack taken apart: every file hashed, parsed back and compared with the results."""

import hashlib
import io
import json
import os
import stat
import tracemalloc
import zipfile

import pytest
from pack_contents import as_cell, parse_csv

from dsr import results
from dsr.export.errors import PackError, PackUnavailable
from dsr.export.pack import Letter, build_pack, pack_path
from dsr.export.reading import decrypt_to, has_pack, open_pack
from dsr.export.selection import LeftOut
from dsr.extensions import db
from dsr.models import DataRequest, Task, TaskStatus
from dsr.operations import create_request

MASTER = "22" * 32
CRM = {
    "contacts": [
        {"email": "camille.durand@example.org", "name": "Camille Durand", "phone": None},
        {
            "email": "camille.durand@example.org",
            "name": "Camille Dürand-Łukasiewicz 李",
            "address": {"street": "12 rue de l'Exemple", "city": "Lyon"},
            "tags": ["a", "b, c"],
        },
    ],
    "notes": [
        {"text": 'Appel du 3 mars:\r\nelle dit "bonjour",\nmerci ✓', "stars": 4.5, "ok": True},
    ],
}
BILLING = {
    "invoices": [
        {"number": f"F-{n:04d}", "amount": n * 1.25, "paid": n % 2 == 0} for n in range(1, 6)
    ]
}
#: one value per trigger character that a spreadsheet would run as a formula
FORMULAS = {
    "equals": "=1+2",
    "plus": "+33 4 65 71 12 34",
    "minus": "-2+3",
    "at": "@SUM(A1:A2)",
    "tab": "\t=cmd",
    "cr": "\r=cmd",
}


def new_request(app, systems: dict[str, dict | None], language: str = "fr") -> str:
    """A request whose tasks succeeded with `systems`' tables (None: a task that failed)."""
    with app.app_context():
        request = create_request(
            {
                "type": "access",
                "email": "camille.durand@example.org",
                "name": "Camille Durand",
                "identifiers": {},
                "details": {},
                "language": language,
            }
        )
        for connector in systems:
            request.tasks.append(Task(connector=connector, action="access"))
        db.session.commit()
        for task in request.tasks:
            tables = systems[task.connector]
            task.status = TaskStatus.FAILED if tables is None else TaskStatus.SUCCEEDED
            with results.writer(task) as sink:
                for table, records in (tables or {}).items():
                    for record in records:
                        sink.write(table, record)
                task.record_counts = sink.commit()
        db.session.commit()
        return request.ref


def get(ref: str) -> DataRequest:
    return db.session.query(DataRequest).filter_by(ref=ref).one()


def build(app, ref, **options):
    with app.app_context():
        info = build_pack(get(ref), **options)
        db.session.commit()
        return info


def unpack(app, ref, tmp_path) -> dict[str, bytes]:
    """Every file of the pack, by name, decrypted through `open_pack`."""
    with app.app_context():
        path = decrypt_to(get(ref), tmp_path / f"{ref}.zip")
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def app(make_app):
    return make_app(DSR_DATA_KEY=MASTER)


def test_the_pack_taken_apart_matches_what_the_systems_returned(app, tmp_path):
    ref = new_request(app, {"crm": CRM, "billing": BILLING, "sms": {}})
    info = build(app, ref)
    files = unpack(app, ref, tmp_path)
    manifest = json.loads(files["manifest.json"])
    assert manifest["schema_version"] == "1" and manifest["reference"] == ref
    assert manifest["type"] == "access" and manifest["controller"] == "Mobilités Démo SAS"
    assert manifest["generated_at"].endswith("Z") and manifest["not_communicated"] == []
    # every file listed with its true hash and size, and nothing unlisted
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(files) == {*listed, "manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest(), name
        assert entry["size"] == len(files[name]), name
    assert json.loads(files["data.json"]) == {
        "systems": {
            "billing": {"label": "Billing", "tables": BILLING},
            "crm": {"label": "CRM", "tables": CRM},
            "sms": {"label": "SMS platform", "tables": {}},
        }
    }
    assert listed["data.json"]["records"] == info.records == 8
    for connector, tables in (("crm", CRM), ("billing", BILLING)):
        for table, records in tables.items():
            rows = parse_csv(files[f"{connector}/{table}.csv"])
            header = list(dict.fromkeys(key for record in records for key in record))
            assert rows[0] == header
            assert rows[1:] == [[as_cell(r.get(key)) for key in header] for r in records]
            assert listed[f"{connector}/{table}.csv"]["records"] == len(records)
    assert manifest["systems"] == [
        {"connector": "billing", "label": "Billing", "tables": {"invoices": 5}},
        {"connector": "crm", "label": "CRM", "tables": {"contacts": 2, "notes": 1}},
        {"connector": "sms", "label": "SMS platform", "tables": {}},
    ]
    assert info.size == (tmp_path / f"{ref}.zip").stat().st_size
    assert info.sha256 == hashlib.sha256((tmp_path / f"{ref}.zip").read_bytes()).hexdigest()


def test_cells_a_spreadsheet_would_run_are_neutralised_and_data_json_keeps_them(app, tmp_path):
    record = {name: value for name, value in FORMULAS.items()}
    record |= {"negative": -5, "plain": "a=b", "quote": "'already"}
    ref = new_request(app, {"crm": {"contacts": [record]}})
    build(app, ref)
    files = unpack(app, ref, tmp_path)
    header, row = parse_csv(files["crm/contacts.csv"])
    cells = dict(zip(header, row, strict=True))
    for name, value in FORMULAS.items():
        assert cells[name] == "'" + value, name
    assert cells["negative"] == "-5"  # a number is not a formula
    assert cells["plain"] == "a=b" and cells["quote"] == "'already"
    assert json.loads(files["data.json"])["systems"]["crm"]["tables"]["contacts"] == [record]


def test_a_header_that_looks_like_a_formula_is_neutralised_too(app, tmp_path):
    ref = new_request(app, {"crm": {"contacts": [{"=HYPERLINK(1)": "x"}]}})
    build(app, ref)
    header, row = parse_csv(unpack(app, ref, tmp_path)["crm/contacts.csv"])
    assert header == ["'=HYPERLINK(1)"] and row == ["x"]


def test_an_empty_table_and_a_system_that_found_nothing(app, tmp_path):
    ref = new_request(app, {"crm": {"contacts": [{"n": 1}]}, "billing": {}, "sms": None})
    with app.app_context():
        crm = next(task for task in get(ref).tasks if task.connector == "crm")
        crm.record_counts = {**crm.record_counts, "notes": 0}  # a table it declares, empty
        db.session.commit()
    build(app, ref)
    files = unpack(app, ref, tmp_path)
    data = json.loads(files["data.json"])["systems"]
    assert data == {  # the failed task's system (sms) is not in the pack
        "billing": {"label": "Billing", "tables": {}},
        "crm": {"label": "CRM", "tables": {"contacts": [{"n": 1}], "notes": []}},
    }
    assert files["crm/notes.csv"] == b"" and not any(n.startswith("billing/") for n in files)
    manifest = json.loads(files["manifest.json"])
    assert {s["connector"]: s["tables"] for s in manifest["systems"]} == {
        "billing": {},
        "crm": {"contacts": 1, "notes": 0},
    }


def test_a_request_whose_systems_found_nothing_gets_a_pack_that_says_so(app, tmp_path):
    ref = new_request(app, {"crm": {}}, language="en")
    build(app, ref)
    files = unpack(app, ref, tmp_path)
    assert json.loads(files["data.json"]) == {"systems": {"crm": {"label": "CRM", "tables": {}}}}
    assert "Our systems returned no data about you." in files["README.txt"].decode()


def test_left_out_tables_and_records_are_listed_as_not_communicated(app, tmp_path):
    ref = new_request(app, {"crm": CRM, "billing": BILLING})
    left_out = [
        LeftOut("crm", "notes", "Names another customer."),
        LeftOut("billing", "invoices", "Shared account.", record=1),
    ]
    info = build(app, ref, left_out=left_out)
    files = unpack(app, ref, tmp_path)
    data = json.loads(files["data.json"])["systems"]
    assert "notes" not in data["crm"]["tables"] and "crm/notes.csv" not in files
    kept = [r for n, r in enumerate(BILLING["invoices"]) if n != 1]
    assert data["billing"]["tables"]["invoices"] == kept
    assert len(parse_csv(files["billing/invoices.csv"])) == 1 + len(kept)
    manifest = json.loads(files["manifest.json"])
    assert manifest["not_communicated"] == [
        {
            "connector": "crm",
            "label": "CRM",
            "table": "notes",
            "record": None,
            "reason": "Names another customer.",
        },
        {
            "connector": "billing",
            "label": "Billing",
            "table": "invoices",
            "record": 1,
            "reason": "Shared account.",
        },
    ]
    assert info.records == 2 + 4
    readme = files["README.txt"].decode()
    assert "CRM, notes: Names another customer." in readme
    assert "Billing, invoices, enregistrement n° 2: Shared account." in readme


@pytest.mark.parametrize(
    "left_out",
    [
        LeftOut("crm", "nothing", "why"),
        LeftOut("nobody", "contacts", "why"),
        LeftOut("crm", "contacts", "why", record=2),
        LeftOut("crm", "contacts", "  "),
    ],
)
def test_a_left_out_entry_that_names_nothing_is_refused(app, left_out):
    ref = new_request(app, {"crm": CRM})
    with app.app_context(), pytest.raises(PackError):
        build_pack(get(ref), left_out=[left_out])


@pytest.mark.parametrize("damage", ["flip", "truncate", "missing"])
def test_an_unreadable_result_file_stops_the_build_and_leaves_no_pack(app, damage):
    ref = new_request(app, {"billing": BILLING, "crm": CRM})
    with app.app_context():
        crm = next(task for task in get(ref).tasks if task.connector == "crm")
        path = results.task_folder(crm) / "notes.jsonl"
    raw = bytearray(path.read_bytes())
    if damage == "flip":
        raw[60] ^= 1
        path.write_bytes(raw)
    elif damage == "truncate":
        path.write_bytes(raw[:-10])
    else:
        path.unlink()
    with app.app_context():
        request = get(ref)
        with pytest.raises(PackError) as failure:
            build_pack(request)
        assert not pack_path(request).parent.exists() or not any(
            pack_path(request).parent.iterdir()
        )
        assert not has_pack(request)
        with pytest.raises(PackUnavailable):
            open_pack(request)
    assert str(failure.value).startswith(  # in the instance's language: a handler reads it
        "Les résultats de crm, table notes, ne peuvent pas être lus ("
    )


def test_the_pack_is_sealed_private_and_replaced_whole(app, tmp_path):
    ref = new_request(app, {"crm": CRM})
    first = build(app, ref)
    raw = first.path.read_bytes()
    assert b"Camille" not in raw and b"PK" != raw[:2]
    assert stat.S_IMODE(os.stat(first.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(first.path.parent).st_mode) == 0o700
    letter = b"PK\x03\x04 not a real docx, but bytes the pack must carry as they are"
    second = build(app, ref, letter=Letter("access-report.docx", letter))
    assert os.listdir(first.path.parent) == ["answer.zip.sealed"]  # no temporary file left
    files = unpack(app, ref, tmp_path)
    assert files["access-report.docx"] == letter and second.sha256 != first.sha256
    entry = next(
        e
        for e in json.loads(files["manifest.json"])["files"]
        if e["records"] is None and e["name"] == "access-report.docx"
    )
    assert entry["sha256"] == hashlib.sha256(letter).hexdigest()
    with app.app_context():
        request = get(ref)
        results.delete_request_files(request)  # what the retention purge does
        assert not has_pack(request)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Vos données détenues par Mobilités Démo SAS", "data.json", "Tableur"]),
        ("en", ["Your data held by Mobilités Démo SAS", "data.json", "spreadsheet"]),
    ],
)
def test_the_readme_is_in_the_persons_language(app, tmp_path, language, expected):
    ref = new_request(app, {"crm": CRM}, language=language)
    build(app, ref, letter=Letter("access-report.docx", b"letter"))
    readme = unpack(app, ref, tmp_path)["README.txt"].decode("utf-8")
    for text in [*expected, ref, "crm/contacts.csv", "access-report.docx", "manifest.json"]:
        assert text.lower() in readme.lower(), text
    assert "\r\n" in readme and "\n\n\n" not in readme.replace("\r\n", "\n")


def test_memory_stays_flat_however_many_records(app, tmp_path):
    rows = [{"n": n, "text": f'ligne {n}\nété, "quoted"', "pad": "x" * 200} for n in range(20_000)]
    ref = new_request(app, {"crm": {"contacts": rows}})
    with app.app_context():
        request = get(ref)
        tracemalloc.start()
        info = build_pack(request)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        db.session.commit()
    written = sum(entry.size for entry in info.files)
    assert info.records == 20_000 and written > 8_000_000
    assert peak < 3_000_000, f"writing {written} bytes peaked at {peak} bytes"
    files = unpack(app, ref, tmp_path)
    assert len(parse_csv(files["crm/contacts.csv"])) == 20_001


def test_an_entry_that_may_pass_4_gib_is_written_as_zip64_and_reads_back(tmp_path):
    """Through a sealed stream zipfile cannot go back: ZIP64 is decided before the entry."""
    from dsr import sealed
    from dsr.export.pack import add_stream
    from dsr.export.streams import SealedTarget

    key, path = sealed.new_key(), tmp_path / "big.zip.sealed"
    with open(path, "wb") as raw:
        writer = sealed.SealedWriter(raw, key, "pack/test")
        with zipfile.ZipFile(SealedTarget(writer), "w", zipfile.ZIP_DEFLATED) as archive:
            entry = add_stream(archive, "data.json", lambda out: out.write("[1]") and 1, 2**32)
            small = add_stream(archive, "small.csv", lambda out: out.write("a") and 1, 10)
        writer.close()
    with open(path, "rb") as raw:
        clear = io.BytesIO(sealed.SealedReader(raw, key, "pack/test").read())
    with zipfile.ZipFile(clear) as archive:
        assert archive.read("data.json") == b"[1]" and archive.read("small.csv") == b"a"
        offsets = {info.filename: info.header_offset for info in archive.infolist()}
    needs = {
        name: int.from_bytes(clear.getvalue()[at + 4 : at + 6], "little")
        for name, at in offsets.items()
    }  # "version needed" of each local header
    assert needs == {"data.json": zipfile.ZIP64_VERSION, "small.csv": zipfile.DEFAULT_VERSION}
    assert entry.sha256 == hashlib.sha256(b"[1]").hexdigest() and small.size == 1


def test_a_build_killed_midway_leaves_nothing_to_download_and_is_swept_later(app):
    ref = new_request(app, {"crm": CRM})
    with app.app_context():
        request = get(ref)
        folder = pack_path(request).parent
        results.make_private_folder(folder)
        stale, running = folder / "answer.zip.sealed.dead.partial", folder / "x.partial"
        stale.write_bytes(b"half a pack")
        running.write_bytes(b"another build, still writing")
        os.utime(stale, (0, 0))
        assert not has_pack(request)
        with pytest.raises(PackUnavailable):
            open_pack(request)
        build_pack(request)
        db.session.commit()
    assert sorted(os.listdir(folder)) == ["answer.zip.sealed", "x.partial"]
