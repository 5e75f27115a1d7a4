"""Request statuses, their titles, and the one table of allowed transitions."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class RequestStatus(StrEnum):
    """Where a request stands. The values are the public contract."""

    UNVERIFIED = "unverified"
    OPEN = "open"
    PROCESSING = "processing"
    REVIEW = "review"
    COMPLETED = "completed"
    AWAITING_SUBJECT = "awaiting_subject"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"

    @property
    def title(self):
        return TITLES[self]

    @property
    def is_final(self) -> bool:
        return not TRANSITIONS[self]

    @property
    def cancels_tasks(self) -> bool:
        """Entering it stops the work: the request's unfinished tasks are cancelled."""
        return self in CANCELS_TASKS

    @property
    def pauses_clock(self) -> bool:
        """Art. 12(6): while the subject owes us proof or information, the clock stops."""
        return self is RequestStatus.AWAITING_SUBJECT


S = RequestStatus

#: the statuses that end a request before its answer: no system is asked anything more
CANCELS_TASKS = frozenset({S.REJECTED, S.WITHDRAWN, S.EXPIRED})

#: what the subject reads on the status page, in plain words
TITLES = {
    S.UNVERIFIED: _l("Waiting for you to confirm your email address"),
    S.OPEN: _l("Received, waiting to be processed"),
    S.PROCESSING: _l("Being processed"),
    S.REVIEW: _l("Being reviewed before we answer"),
    S.COMPLETED: _l("Completed"),
    S.AWAITING_SUBJECT: _l("Waiting for information from you"),
    S.REJECTED: _l("Refused"),
    S.WITHDRAWN: _l("Withdrawn"),
    S.EXPIRED: _l("Expired: closed without what we needed from you"),
}

#: status -> the statuses it may move to; a final status has none
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    S.UNVERIFIED: frozenset({S.OPEN, S.WITHDRAWN, S.EXPIRED}),
    # open, processing and awaiting_subject reach completed only when a handler closes the
    # case (its answer went out by another channel) or merges it into a duplicate
    S.OPEN: frozenset({S.PROCESSING, S.AWAITING_SUBJECT, S.REJECTED, S.WITHDRAWN, S.COMPLETED}),
    S.PROCESSING: frozenset({S.REVIEW, S.AWAITING_SUBJECT, S.REJECTED, S.WITHDRAWN, S.COMPLETED}),
    S.REVIEW: frozenset({S.COMPLETED, S.PROCESSING, S.AWAITING_SUBJECT, S.REJECTED, S.WITHDRAWN}),
    # the answer brings it back where it was asked from (`dsr.asking`); no answer: expired
    S.AWAITING_SUBJECT: frozenset(
        {S.OPEN, S.PROCESSING, S.REVIEW, S.REJECTED, S.WITHDRAWN, S.EXPIRED, S.COMPLETED}
    ),
    S.COMPLETED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset(),
}


def can_transition(current: RequestStatus, target: RequestStatus) -> bool:
    """Whether `current` may move to `target`."""
    return target in TRANSITIONS[current]
