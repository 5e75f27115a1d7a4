"""The bare comparison app for `benchmarks/intake.py`: one endpoint that inserts one row.

It does what any Flask app must do to take a request, and nothing the engine
adds: parse the JSON, insert a row through Flask-SQLAlchemy, commit, answer
201. A SQLite connection is set up by the engine's own listeners (WAL,
busy timeout, BEGIN IMMEDIATE), so the difference measured is the engine's
work, not a faster database configuration; PostgreSQL needs none.

    # create the table, then serve
    BARE_DATABASE_URL=sqlite:////tmp/bare.sqlite3 python benchmarks/bare_app.py
    BARE_DATABASE_URL=... gunicorn -w 2 --chdir benchmarks bare_app:app
"""

import logging
import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, String, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dsr.db import _sqlite_begin, _sqlite_connect

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """A metadata of its own, so nothing here leaks into the engine's models."""


db = SQLAlchemy(model_class=Base)


class BareRequest(db.Model):
    """One received request, as little as a real intake would keep."""

    __tablename__ = "bare_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime)


def create_app() -> Flask:
    """The app, bound to `BARE_DATABASE_URL` (with the engine's listeners on SQLite)."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["BARE_DATABASE_URL"]
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_connect)
            event.listen(db.engine, "begin", _sqlite_begin)
    app.add_url_rule("/api/v1/requests", view_func=create_request, methods=["POST"])
    return app


def create_request():
    """Parse, insert one row, commit, answer like the engine does."""
    body = request.get_json()
    row = BareRequest(
        type=body["type"],
        email=body["email"],
        name=body["name"],
        payload=body,
        received_at=datetime.now(UTC).replace(tzinfo=None),
    )
    db.session.add(row)
    db.session.commit()
    return jsonify(ref=f"BARE-{row.id:06d}", status="unverified", due_at=None), 201


def init_db() -> None:
    """Create the table once, before the workers start (they would race to create it)."""
    with create_app().app_context():
        db.create_all()


if __name__ == "__main__":
    init_db()
else:
    app = create_app()
