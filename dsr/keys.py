"""Each request's data key: made with it, stored wrapped on its row, forgotten by the purge.

The master key comes from `DSR_DATA_KEY` (checked at start-up by
`dsr.config`). In development, without it, a fixed key derived from a
public string is used: it protects nothing and production refuses to start
without a real one. Forgetting a request's wrapped key (`forget`) leaves its
files, and every backup of them, unreadable.
"""

import hashlib

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from dsr import sealed
from dsr.extensions import db
from dsr.models import DataRequest

#: the development master key when DSR_DATA_KEY is unset (never in production)
DEV_MASTER_KEY = hashlib.sha256(b"dsr development data key: protects nothing").digest()


class KeyUnavailable(Exception):
    """A request's data key cannot be had: deleted by the retention purge, or unwrappable."""


def master_key() -> bytes:
    text = current_app.config.get("DSR_DATA_KEY")
    return sealed.parse_key(text) if text else DEV_MASTER_KEY


def data_key(request: DataRequest) -> bytes:
    """The request's data key in clear, to read its files."""
    if request.data_key is None:
        raise KeyUnavailable(f"{request.ref}: no data key (its results were deleted)")
    try:
        return sealed.unwrap(master_key(), request.data_key, request.ref)
    except sealed.SealedError as exc:
        raise KeyUnavailable(f"{request.ref}: {exc}") from exc


def new_wrapped_key(ref: str) -> bytes:
    """A new random data key for request `ref`, wrapped under the master key."""
    return sealed.wrap(master_key(), sealed.new_key(), ref)


def ensure_data_key(request: DataRequest) -> bytes:
    """The request's data key, to write its results; commits when it has to make one.

    Every request gets its key when it is created; only requests older than
    the key column (migration 0006) get theirs here, with their first result.
    Made by a conditional update, so two workers writing the first results of
    one request at once agree on one key, and committed at once, so no file is
    ever sealed under a key the database might roll back. Called outside any
    other write (a worker between its claim and the system's call).
    """
    if request.data_key is None:
        if request.results_deleted_at is not None:
            raise KeyUnavailable(f"{request.ref}: its results were deleted; nothing more is kept")
        wrapped = new_wrapped_key(request.ref)
        db.session.execute(
            update(DataRequest)
            .where(DataRequest.id == request.id, DataRequest.data_key.is_(None))
            .values(data_key=wrapped)
        )
        stored = select(DataRequest.data_key).where(DataRequest.id == request.id)
        set_committed_value(request, "data_key", db.session.scalar(stored))
        db.session.commit()
    return data_key(request)


def forget(request: DataRequest) -> None:
    """Drop the request's data key: what was sealed under it can never be read again."""
    request.data_key = None
