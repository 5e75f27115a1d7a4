"""How long the engine keeps what it holds of a closed request, and the purge that enforces it.

Both periods run from `closed_at`, set when a request reaches a final status
(completed, rejected, withdrawn, expired):

- after `RESULTS_RETENTION_DAYS` (30) the request's folder goes (what the
  systems returned, and whatever else is stored for it on disk) and its data
  key is forgotten, so that a copy of the files in a backup can no longer be
  read;
- after `REQUESTS_RETENTION_DAYS` (1826, five years: the CNIL's usual
  limitation period) the request is anonymised: email, name, identifiers,
  details, the verification nonce and the free texts of its tasks are emptied.

Request rows are never deleted. The row stays as a tombstone (reference, type,
status, dates and due dates, for accountability), so that audit events keep
pointing at it by id: deleting it would set their `request_id` to NULL
(`ON DELETE SET NULL`) and break their hashes. Events carry no personal data
(`dsr.audit`), so emptying the row leaves the chain verifiable.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from dsr import audit, keys, results
from dsr.extensions import db
from dsr.models import CaseNote, DataRequest, Document, IdentityClaim, Question
from dsr.models.types import utcnow

logger = logging.getLogger(__name__)


@dataclass
class PurgeReport:
    """The references of the requests whose results go, and of those anonymised."""

    results_deleted: list[str] = field(default_factory=list)
    anonymised: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"results_deleted": len(self.results_deleted), "anonymised": len(self.anonymised)}


def closed_before(days_setting: str, done_column, now: datetime):
    """Requests closed more than the setting's days ago and not yet purged that way."""
    cutoff = now - timedelta(days=current_app.config[days_setting])
    query = select(DataRequest).where(
        DataRequest.closed_at.is_not(None), DataRequest.closed_at < cutoff, done_column.is_(None)
    )
    return list(db.session.scalars(query.order_by(DataRequest.id)))


def delete_results(request: DataRequest, now: datetime) -> None:
    """Remove the request's files, then forget its key (the caller commits).

    Files first: should the commit fail, the next run finds the request again.
    """
    files = results.delete_request_files(request)
    keys.forget(request)
    request.results_deleted_at = now
    audit.record(
        "retention.results_deleted",
        actor="system",
        request_id=request.id,
        data={"files": files, "after_days": current_app.config["RESULTS_RETENTION_DAYS"]},
    )


def anonymise(request: DataRequest, now: datetime) -> None:
    """Empty every personal field of the request, its tasks and its identifiers; the row stays."""
    if request.results_deleted_at is None:
        delete_results(request, now)
    request.email, request.name = "", ""
    request.identifiers, request.details, request.decisions = {}, {}, {}
    request.verify_nonce, request.transmission_nonce = None, None
    db.session.execute(delete(IdentityClaim).where(IdentityClaim.request_id == request.id))
    # their files went with the results; a file's name may name the person
    db.session.execute(delete(Document).where(Document.request_id == request.id))
    db.session.execute(delete(CaseNote).where(CaseNote.request_id == request.id))  # may quote
    db.session.execute(  # a question or its answer may name the person
        update(Question).where(Question.request_id == request.id).values(message="", answer=None)
    )
    for task in request.tasks:  # a system's error or outcome may quote the person, its
        task.last_error, task.outcome, task.details = None, None, {}  # details the changes
    request.anonymised_at = now
    audit.record(
        "retention.anonymised",
        actor="system",
        request_id=request.id,
        data={"after_days": current_app.config["REQUESTS_RETENTION_DAYS"]},
    )


def purge(*, dry_run: bool = False, now: datetime | None = None) -> PurgeReport:
    """Apply both retention periods; with `dry_run`, only say what would go.

    One commit per request, so a long purge holds the write lock briefly.
    """
    now = now or utcnow()
    expired_results = closed_before("RESULTS_RETENTION_DAYS", DataRequest.results_deleted_at, now)
    expired_rows = closed_before("REQUESTS_RETENTION_DAYS", DataRequest.anonymised_at, now)
    report = PurgeReport([r.ref for r in expired_results], [r.ref for r in expired_rows])
    if dry_run:
        db.session.rollback()
        return report
    anonymising = {request.id for request in expired_rows}
    for request in expired_results:
        if request.id not in anonymising:
            delete_results(request, now)
            db.session.commit()
    for request in expired_rows:
        anonymise(request, now)
        db.session.commit()
    logger.info("retention purge: %s", report.counts())
    return report
