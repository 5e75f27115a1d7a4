"""The audit chain: appends link up, `dsr audit verify` finds edits and deletions."""

from sqlalchemy import text

from dsr import audit
from dsr.extensions import db


def append(app, count: int) -> None:
    with app.app_context():
        for n in range(count):
            audit.record("test.event", actor="system", data={"n": n, "label": "é"})
        db.session.commit()


def test_intact_chain_verifies(app, runner):
    append(app, 5)
    result = runner.invoke(args=["dsr", "audit", "verify"])
    assert result.exit_code == 0
    assert "5 events" in result.output


def test_events_link_to_their_predecessor(app):
    append(app, 3)
    with app.app_context():
        rows = db.session.execute(
            text("SELECT id, prev_hash, hash FROM audit_events ORDER BY id")
        ).all()
    assert rows[0].prev_hash == audit.GENESIS
    assert rows[1].prev_hash == rows[0].hash
    assert rows[2].prev_hash == rows[1].hash


def test_free_text_from_outside_the_engine_stays_out_of_the_chain(app, runner):
    """A system's error or outcome, a handler's note may quote the person: never hashed in."""
    quoted = "no contact camille.durand@example.org"
    with app.app_context():
        data = {"task": "t-1", "error": quoted, "last_error": quoted, "outcome": quoted}
        event = audit.record("task.failed", actor="connector:crm", data={**data, "note": quoted})
        db.session.commit()
        assert event.data == {"task": "t-1"}
        stored = db.session.execute(text("SELECT data FROM audit_events")).scalar_one()
    assert "camille" not in stored
    assert runner.invoke(args=["dsr", "audit", "verify"]).exit_code == 0


def test_edited_row_is_named(app, runner):
    append(app, 5)
    with app.app_context():
        db.session.execute(text("UPDATE audit_events SET data = '{\"n\": 99}' WHERE id = 3"))
        db.session.commit()
    result = runner.invoke(args=["dsr", "audit", "verify"])
    assert result.exit_code == 1
    assert "event 3" in result.output
    assert "edited" in result.output


def test_deleted_row_is_found(app, runner):
    append(app, 5)
    with app.app_context():
        db.session.execute(text("DELETE FROM audit_events WHERE id = 2"))
        db.session.commit()
    result = runner.invoke(args=["dsr", "audit", "verify"])
    assert result.exit_code == 1
    assert "event 3" in result.output


def test_deleted_tail_is_found(app, runner):
    append(app, 4)
    with app.app_context():
        db.session.execute(text("DELETE FROM audit_events WHERE id = 4"))
        db.session.commit()
    result = runner.invoke(args=["dsr", "audit", "verify"])
    assert result.exit_code == 1
    assert "chain head" in result.output
