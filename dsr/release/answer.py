"""Releasing the answer: asked for by a handler, built and sent by one RQ job.

`request_release` (page or API) locks the request row, checks that it is in
review with no withheld answer awaiting a decision, marks the release as
asked for, and the caller enqueues `release_job` after the commit. The job
takes a Redis lock per request, then the row's lock, and does the work only
if the release is still asked for and not done: two presses, two jobs or a
re-enqueue build and send one pack. It builds the letter (the type's
`answer_letter`) and the pack (which replaces any earlier one only once
complete) with no transaction open, checks again under the row's lock, moves
the request to `completed`, commits, then mails the download link. A
PackError leaves the request in review with `release_error` for the case
page; releasing again clears it. A worker killed midway leaves the release
asked for and not done, its Redis lock and a partial file: `reconcile_releases`
clears the lock and enqueues it again once its job is dead (after a grace
period), and the next build sweeps the partial file.
"""

import contextlib
import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from redis.exceptions import LockError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select

import workflows
from dsr import after_commit, audit, mail, systems
from dsr.export.errors import PackError
from dsr.export.pack import Letter, build_pack, pack_path, sweep
from dsr.extensions import db
from dsr.identity import withheld
from dsr.letters.access import access_letter
from dsr.letters.consent_withdrawal import consent_withdrawal_letter
from dsr.letters.erasure import erasure_letter
from dsr.letters.objection import objection_letter
from dsr.letters.post_mortem import post_mortem_letter
from dsr.letters.rectification import rectification_letter
from dsr.letters.restriction import restriction_letter
from dsr.models import DataRequest, HeldStatus
from dsr.models.types import utcnow
from dsr.operations import transition_to
from dsr.queue import enqueue_many, redis_connection
from dsr.release import links, review, transmission
from dsr.status import RequestStatus

logger = logging.getLogger(__name__)

S = RequestStatus
#: a release asked for this long ago and neither done nor failed has lost its job
RELEASE_GRACE = timedelta(minutes=10)
#: the build's time limit (RQ's job timeout), seconds
RELEASE_TIMEOUT = 3600
#: the letters a type's `answer_letter` may name
LETTERS = {
    "access": lambda request: access_letter(request, not_communicated=review.annex(request)),
    "erasure": erasure_letter,
    "rectification": rectification_letter,
    "restriction": restriction_letter,
    "objection": objection_letter,
    "consent_withdrawal": consent_withdrawal_letter,
    "post_mortem": post_mortem_letter,
}


class ReleaseRefused(Exception):
    """A release that cannot be asked for now; `code` is the API's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def releasable(request: DataRequest) -> bool:
    """Whether the request's type has an answer that a handler releases."""
    return workflows.get(request.type).answer == "pack"


def locked(request_id: int) -> DataRequest | None:
    """The request read again, its row held until the caller commits."""
    return db.session.execute(
        select(DataRequest).where(DataRequest.id == request_id).with_for_update(),
        execution_options={"populate_existing": True},
    ).scalar_one_or_none()


def release_in_progress(request: DataRequest) -> bool:
    return bool(
        request.release_requested_at and not request.released_at and not request.release_error
    )


def request_release(request: DataRequest, *, actor: str) -> bool:
    """Ask for the answer's release; True if the caller must enqueue the job after its commit.

    ReleaseRefused when the request is not in review ("not_in_review"), has no
    pack to release ("no_answer") or a withheld answer awaits a decision
    ("withheld_pending"). A release already under way is not asked twice (False).
    """
    request = locked(request.id)
    if not releasable(request):
        raise ReleaseRefused("no_answer", _("This type of request has no answer pack to release."))
    if request.status != S.REVIEW:
        raise ReleaseRefused(
            "not_in_review",
            _("The answer is released only from review; this request is not in review."),
        )
    if any(answer.status == HeldStatus.HELD for answer in withheld.for_request(request).values()):
        raise ReleaseRefused(
            "withheld_pending",
            _("A withheld answer awaits a decision: release or discard it before the answer."),
        )
    if release_in_progress(request):
        return False
    request.release_requested_at, request.release_requested_by = utcnow(), actor
    request.release_error = None
    audit.record("release.requested", actor=actor, request_id=request.id)
    return True


def release_by_itself(request: DataRequest) -> None:
    """Ask for the release as the system (a type whose `when_done` says "release"), in
    the caller's transaction; the job is queued once it commits (if Redis is down then,
    the reconciliation queues it). A release refused (a withheld answer awaits a
    decision) leaves the request in review for a handler."""
    try:
        if request_release(request, actor="system"):
            after_commit.later(enqueue_release, request.id)
    except ReleaseRefused as exc:
        logger.info("%s stays in review: %s", request.ref, exc)


def enqueue_release(request_id: int) -> None:
    """Queue the release job; its id names the request, so a queued twin is replaced, not added."""
    enqueue_many(
        [
            {
                "func": release_job,
                "args": (request_id,),
                "job_id": job_id(request_id),
                "job_timeout": RELEASE_TIMEOUT,
                "description": f"release the answer of request {request_id}",
            }
        ]
    )


def job_id(request_id: int) -> str:
    return f"release-{request_id}"


def lock_name(request_id: int) -> str:
    """The Redis lock that keeps one build of the request's pack at a time."""
    return f"dsr:release:{request_id}"


def release_job(request_id: int) -> str:
    """Build and send the answer once; returns what it did ("released", "failed", "nothing").

    A Redis lock keeps a second worker from building the same pack at the same
    time; the database says whether it is still to do. No transaction is open
    while the pack is built (on SQLite it would hold the write lock for minutes).
    """
    guard = redis_connection().lock(
        lock_name(request_id), timeout=RELEASE_TIMEOUT + 60, blocking=False
    )
    if not guard.acquire():
        return "nothing"  # another worker is building it
    try:
        return release_once(request_id)
    finally:
        with contextlib.suppress(LockError):  # it expired: the build outlived its time limit
            guard.release()


def still_to_release(request_id: int) -> DataRequest | None:
    """The request, locked, if its release is asked for and not done; else None (committed)."""
    request = locked(request_id)
    if request is None or not release_in_progress(request) or request.status != S.REVIEW:
        db.session.commit()
        return None
    return request


def release_once(request_id: int) -> str:
    request = still_to_release(request_id)
    if request is None:
        return "nothing"
    for task in request.tasks:  # loaded now, so that the build asks the database nothing
        task.request  # noqa: B018 - loads the relationship
    db.session.commit()
    # under the release's lock no other build of this pack runs: a partial file is a dead one's
    sweep(pack_path(request).parent, older_than=0)
    try:
        letter_name = workflows.get(request.type).answer_letter
        letter = (
            Letter(f"{letter_name.replace('_', '-')}-report.docx", LETTERS[letter_name](request))
            if letter_name
            else None
        )
        info = build_pack(request, review.entries(request), letter, review.scope(request))
    except PackError as exc:
        db.session.rollback()
        request = locked(request_id)
        request.release_error = str(exc)[:2000]
        audit.record(
            "release.failed", actor="system", request_id=request.id, data={"error": str(exc)}
        )
        db.session.commit()
        logger.warning("release of %s failed: %s", request.ref, exc)
        return "failed"
    request = still_to_release(request_id)
    if request is None:  # withdrawn (or done) while the pack was built: nothing is sent
        return "nothing"
    request.released_at = utcnow()
    audit.record(
        "release.done",
        actor="system",
        request_id=request.id,
        data={
            "sha256": info.sha256,
            "records": info.records,
            "left_out": len(request.left_out or []),
        },
    )
    transition_to(request, S.COMPLETED, actor="system", reason="the answer was released")
    db.session.commit()
    named = transmission.recipient(request)
    mail.send_later(
        request.id,
        "answer_ready",
        download_url=links.download_url(request),
        download_days=current_app.config["DOWNLOAD_LINK_MAX_AGE"] // (24 * 3600),
        letter=letter.name if letter else None,
        with_data=workflows.get(request.type).holds_data(systems.case_of(request)),
        recipient_name=named[0] if named else None,
    )
    logger.info("answer of %s released", request.ref)
    return "released"


def job_is_alive(request: DataRequest, now: datetime) -> bool:
    """Whether the release job will still run, or runs. A worker killed mid-build leaves
    its job "started" (until RQ finds it abandoned); past its time limit, counted from
    when it started (it may have waited long in the queue), nobody runs it any more."""
    try:
        job = Job.fetch(job_id(request.id), connection=redis_connection())
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.STARTED:
        started = job.started_at or request.release_requested_at  # RQ's is aware, in UTC
        return now - started < timedelta(seconds=RELEASE_TIMEOUT + 60)
    return status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def reconcile_releases(now: datetime) -> int:
    """Enqueue again the releases asked for, not done, and without a live job after the grace.

    A worker killed mid-build leaves its Redis lock behind (it expires only after the
    time limit, from when it was taken), which would turn the job queued again into a
    no-op: with no live job, nobody holds the lock any more, so it goes first.
    """
    stalled = db.session.scalars(
        select(DataRequest).where(
            DataRequest.release_requested_at < now - RELEASE_GRACE,
            DataRequest.released_at.is_(None),
            DataRequest.release_error.is_(None),
            DataRequest.status == S.REVIEW,
        )
    ).all()
    db.session.commit()
    again = [request.id for request in stalled if not job_is_alive(request, now)]
    for request_id in again:
        logger.warning("release of request %s lost its job: queued again", request_id)
        redis_connection().delete(lock_name(request_id))
        enqueue_release(request_id)
    return len(again)
