"""Result files at rest: private permissions, sealed under the request's own key."""

import os
import stat
import tracemalloc

import pytest
from sqlalchemy import update

from dsr import keys, results
from dsr.extensions import db
from dsr.models import DataRequest, Task
from dsr.operations import create_request

MASTER = "11" * 32
CAMILLE = {"email": "camille.durand@example.org", "name": "Camille Durand", "city": "Lyon"}


def new_task(app) -> str:
    """A stored request with one task; returns the task id."""
    with app.app_context():
        request = create_request(
            {
                "type": "access",
                "email": "camille.durand@example.org",
                "name": "Camille Durand",
                "identifiers": {},
                "details": {},
                "language": "fr",
            }
        )
        task = Task(connector="crm", action="access")
        request.tasks.append(task)
        db.session.commit()
        return task.id


def store(app, task_id, rows: dict[str, list[dict]]) -> None:
    """Write an attempt's records through the engine's writer and commit them."""
    with app.app_context():
        task = db.session.get(Task, task_id)
        with results.writer(task) as sink:
            for table, records in rows.items():
                for record in records:
                    sink.write(table, record)
            task.record_counts = sink.commit()
        db.session.commit()


def read(app, task_id, table) -> list[dict]:
    with app.app_context():
        return list(results.records(db.session.get(Task, task_id), table))


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def app(make_app):
    return make_app(DSR_DATA_KEY=MASTER)


def test_folders_are_0700_and_files_0600_from_the_root_down(app, tmp_path):
    root = tmp_path / "results"
    root.mkdir(mode=0o755)
    root.chmod(0o755)  # as earlier versions left it
    task_id = new_task(app)
    store(app, task_id, {"contacts": [CAMILLE], "tickets": [{"n": 1}]})
    with app.app_context():
        folder = results.task_folder(db.session.get(Task, task_id))
    assert [mode(p) for p in (root, folder.parent, folder)] == [0o700] * 3
    assert sorted((p.name, mode(p)) for p in folder.iterdir()) == [
        ("contacts.jsonl", 0o600),
        ("tickets.jsonl", 0o600),
    ]


def test_the_scratch_folder_of_an_attempt_is_private_too(app):
    task_id = new_task(app)
    with app.app_context():
        with results.writer(db.session.get(Task, task_id)) as sink:
            sink.write("contacts", CAMILLE)
            assert mode(sink.scratch) == 0o700
            assert mode(sink.scratch / "contacts.jsonl") == 0o600
        assert not sink.scratch.exists()


def test_files_on_disk_hold_no_clear_text_and_read_back(app):
    task_id = new_task(app)
    store(app, task_id, {"contacts": [CAMILLE, {**CAMILLE, "city": "Lille"}]})
    with app.app_context():
        folder = results.task_folder(db.session.get(Task, task_id))
    raw = (folder / "contacts.jsonl").read_bytes()
    for clear in (b"camille", b"Camille", b"Durand", b"Lyon", b"email"):
        assert clear not in raw
    assert read(app, task_id, "contacts") == [CAMILLE, {**CAMILLE, "city": "Lille"}]


def test_each_request_gets_its_own_key_stored_wrapped(app):
    first, second = new_task(app), new_task(app)
    with app.app_context():
        one, two = (db.session.get(Task, t).request for t in (first, second))
        assert one.data_key and two.data_key and one.data_key != two.data_key
        assert keys.data_key(one) not in one.data_key  # never stored in clear
        assert keys.data_key(one) != keys.data_key(two)


def test_a_request_older_than_its_key_gets_one_with_its_first_result(app):
    """Requests stored before migration 0006 have no key: the first writer makes one, once."""
    task_id = new_task(app)
    with app.app_context():
        db.session.execute(update(DataRequest).values(data_key=None))
        db.session.commit()
    store(app, task_id, {"contacts": [CAMILLE]})
    with app.app_context():
        made = db.session.get(Task, task_id).request.data_key
    store(app, task_id, {"contacts": [{**CAMILLE, "city": "Lille"}]})  # a second attempt
    with app.app_context():
        assert made and db.session.get(Task, task_id).request.data_key == made
    assert read(app, task_id, "contacts") == [{**CAMILLE, "city": "Lille"}]


def test_another_master_key_fails_clearly(app, make_app):
    task_id = new_task(app)
    store(app, task_id, {"contacts": [CAMILLE]})
    other = make_app(DSR_DATA_KEY="22" * 32)
    with pytest.raises(results.ResultsUnreadable, match="DSR_DATA_KEY"):
        read(other, task_id, "contacts")


def test_a_forgotten_key_leaves_the_files_unreadable(app):
    task_id = new_task(app)
    store(app, task_id, {"contacts": [CAMILLE]})
    with app.app_context():
        task = db.session.get(Task, task_id)
        keys.forget(task.request)
        db.session.commit()
        assert results.task_folder(task).exists()
        with pytest.raises(results.ResultsUnreadable, match="no data key"):
            list(results.records(task, "contacts"))


def test_a_file_moved_to_another_table_is_refused(app):
    task_id = new_task(app)
    store(app, task_id, {"contacts": [CAMILLE], "tickets": [{"n": 1}]})
    with app.app_context():
        folder = results.task_folder(db.session.get(Task, task_id))
    os.replace(folder / "contacts.jsonl", folder / "tickets.jsonl")
    with pytest.raises(results.ResultsUnreadable, match="wrong key, or the file was altered"):
        read(app, task_id, "tickets")


def test_megabytes_of_records_round_trip_with_flat_memory(app):
    """Not a timing: ~4 MB written and read back, the reading never holding the file."""
    task_id = new_task(app)
    rows = ({"n": n, "email": f"person{n}@example.org", "note": "x" * 150} for n in range(20_000))
    store(app, task_id, {"contacts": rows})
    with app.app_context():
        task = db.session.get(Task, task_id)
        size = (results.task_folder(task) / "contacts.jsonl").stat().st_size
        assert size > 4_000_000 and task.record_counts == {"contacts": 20_000}
        tracemalloc.start()
        count = 0
        for count, record in enumerate(results.records(task, "contacts"), start=1):
            assert record["n"] == count - 1
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 1_000_000, f"reading {size} bytes peaked at {peak} bytes"


def test_an_unreadable_result_shows_on_the_case_page_not_as_an_error(app, staff_client):
    task_id = new_task(app)
    store(app, task_id, {"contacts": [CAMILLE]})
    with app.app_context():
        task = db.session.get(Task, task_id)
        path, ref = results.task_folder(task) / "contacts.jsonl", task.request.ref
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(raw)
    page = staff_client("viewer").get(f"/staff/requests/{ref}")
    assert page.status_code == 200
    assert "These results cannot be read" in page.get_data(as_text=True)


def test_the_case_page_previews_sealed_results(app, staff_client):
    task_id = new_task(app)
    store(app, task_id, {"contacts": [CAMILLE]})
    with app.app_context():
        ref = db.session.get(DataRequest, db.session.get(Task, task_id).request_id).ref
    page = staff_client("viewer").get(f"/staff/requests/{ref}").get_data(as_text=True)
    assert "Lyon" in page and "cannot be read" not in page
