"""A handler's decisions that stretch or end a case: extend its deadline (Art. 12(3)),
refuse it (Art. 12(4), 12(5)), close it because the answer went out by another channel.

Each is recorded on the request (`DataRequest.decisions`: "extension", "refusal",
"closure", with who and when; the anonymisation empties them), is an audit event
(without the handler's free text, which may quote the person), and changes the status
through `operations.transition_to`. The caller commits, then calls the matching
`send_*` to tell the person in their language.
"""

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from dsr import audit, exemptions, mail, notify, operations, task_status
from dsr.decisions import DecisionError, clean_text
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.release.answer import release_in_progress
from dsr.status import RequestStatus

S = RequestStatus
#: the statuses a case is decided in: confirmed, and not closed
UNDECIDED = frozenset({S.OPEN, S.PROCESSING, S.REVIEW, S.AWAITING_SUBJECT})
#: how many further months an extension may add (Art. 12(3))
EXTENSION_MONTHS = (1, 2)


class Refused(DecisionError):
    """A decision that cannot be taken now (the API's 409); `code` names why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def check_undecided(request: DataRequest) -> None:
    """Refused unless the case is confirmed, not closed, and no answer is being released."""
    if request.status_enum not in UNDECIDED:
        raise Refused(
            "wrong_status",
            _("Only a confirmed request that is not closed yet can be decided."),
        )
    if release_in_progress(request):
        raise Refused("release_in_progress", _("The answer is being released; wait for it."))


def record(request: DataRequest, key: str, entry: dict, actor: str) -> None:
    """Keep a decision on the request with who took it and when."""
    entry = {**entry, "by": actor, "at": utcnow().isoformat()}
    request.decisions = {**(request.decisions or {}), key: entry}


# --- extension (Art. 12(3)) ------------------------------------------------------------


def first_deadline(request: DataRequest) -> datetime:
    """The first deadline as it stands now: while the clock is paused, pushed by the pause."""
    if request.status_enum.pauses_clock:
        request.due_at = operations.compute_due_at(request)
    return request.due_at


def extend(request: DataRequest, reason: str, *, months: int = 2, actor: str) -> None:
    """Extend the deadline by `months` further months (1 or 2), once, before the first
    deadline, with reasons the person reads (Art. 12(3))."""
    check_undecided(request)
    if request.extended_due_at is not None:
        raise Refused("already_extended", _("The deadline was extended already: only once."))
    if months not in EXTENSION_MONTHS:
        raise DecisionError(_("An extension adds one or two months."))
    if request.status_enum.pauses_clock:
        raise Refused(
            "wrong_status",
            _("The clock is paused while the person is asked: extend once they have answered."),
        )
    reason = clean_text(reason)
    if utcnow() > first_deadline(request):
        raise Refused(
            "deadline_passed",
            _("The first deadline has passed: an extension is decided and told before it."),
        )
    record(request, "extension", {"months": months, "reason": reason}, actor)
    request.extended_due_at = operations.compute_extended_due_at(request)
    audit.record(
        "deadline.extended",
        actor=actor,
        request_id=request.id,
        data={
            "months": months,
            "due_at": request.due_at.isoformat(),
            "extended_due_at": request.extended_due_at.isoformat(),
        },
    )


def send_extension(request: DataRequest) -> None:
    mail.send_later(
        request.id,
        "deadline_extended",
        reason=request.decisions["extension"]["reason"],
        due_on=request.extended_due_at,
        status_url=notify.status_url(request),
    )


# --- refusal (Art. 12(4), 12(5)) -------------------------------------------------------


def reject(
    request: DataRequest,
    ground: str,
    explanation: str,
    *,
    exemption: str | None = None,
    actor: str,
) -> None:
    """Refuse the request on `ground` (with the `exemption` the law provides, for that
    ground), explaining why; it becomes `rejected` and its unfinished tasks are cancelled."""
    check_undecided(request)
    if ground not in exemptions.GROUNDS:
        raise DecisionError(_("Choose the ground of the refusal."))
    if ground != "exemption":
        exemption = None
    elif not exemptions.known(exemption):
        raise DecisionError(_("Choose the exemption the law provides."))
    entry = {"ground": ground, "exemption": exemption, "explanation": clean_text(explanation)}
    record(request, "refusal", entry, actor)
    audit.record(
        "decision.refusal",
        actor=actor,
        request_id=request.id,
        data={"ground": ground, "exemption": exemption},
    )
    operations.transition_to(request, S.REJECTED, actor=actor, reason=f"refused: {ground}")


def send_refusal(request: DataRequest) -> None:
    refusal = request.decisions["refusal"]
    exemption = refusal.get("exemption")
    with force_locale(request.language):  # the label in the person's language
        named = exemptions.label(exemption, request.language) if exemption else None
    mail.send_later(
        request.id,
        "rejected",
        ground=refusal["ground"],
        exemption=named,
        explanation=refusal["explanation"],
        status_url=notify.status_url(request),
    )


# --- closing: the answer went out by another channel -----------------------------------


def stop_work(request: DataRequest, actor: str, why: str) -> None:
    """Completed without our answer: the systems are asked nothing more."""
    task_status.cancel_unfinished(request, actor=actor, reason=why)


def close(request: DataRequest, reason: str, *, actor: str) -> None:
    """Complete the request without a pack: its answer went out by another channel (the
    reason says which; the person reads it). Unfinished tasks are cancelled."""
    check_undecided(request)
    record(request, "closure", {"reason": clean_text(reason)}, actor)
    audit.record("request.closed", actor=actor, request_id=request.id)
    stop_work(request, actor, "the case was closed: answered by another channel")
    operations.transition_to(
        request, S.COMPLETED, actor=actor, reason="closed: answered by another channel"
    )


def send_closure(request: DataRequest) -> None:
    mail.send_later(
        request.id,
        "closed",
        reason=request.decisions["closure"]["reason"],
        status_url=notify.status_url(request),
    )
