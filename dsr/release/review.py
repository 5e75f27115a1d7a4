"""What a handler leaves out of the answer (Art. 15(4): the rights of others), and undoes.

Stored on the request (`DataRequest.left_out`), one entry per table or record,
each change an audit event; the release passes them to `build_pack` (as
`LeftOut`) and to the letter's annex (as `Withheld`). A record is named by its
0-based position in its table, as the pack does; the pages show it from 1.
"""

from flask_babel import gettext as _

import workflows
from dsr import audit, systems
from dsr.export.errors import PackError
from dsr.export.selection import LeftOut, Selection, select
from dsr.letters.access import Withheld
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.status import RequestStatus
from workflows.processing_register import Scope

#: the longest reason a handler may give
REASON_LIMIT = 1000


class ReviewError(Exception):
    """A change to what is left out that cannot be made; the message says why."""


class NotEditable(ReviewError):
    """What goes out cannot change now: not in review ("not_in_review"), or the release is
    under way ("release_in_progress"); `code` is the API's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def entries(request: DataRequest) -> list[LeftOut]:
    return [
        LeftOut(item["connector"], item["table"], item["reason"], item.get("record"))
        for item in request.left_out or []
    ]


def scope(request: DataRequest) -> Scope | None:
    """What the request's type lets go out of the systems' answers (None: everything)."""
    return workflows.get(request.type).answer_scope(systems.case_of(request))


def selection(request: DataRequest) -> Selection:
    """What goes out as things stand (PackError if an entry names nothing any more)."""
    return select(request, entries(request), scope(request))


def overview(request: DataRequest) -> tuple[Selection | None, str | None]:
    """What goes out, for the case page; or None and why it cannot be read."""
    try:
        return selection(request), None
    except PackError as exc:
        return None, str(exc)


def annex(request: DataRequest) -> list[Withheld]:
    """The letter's "not communicated" list; records as the pages number them (from 1)."""
    return [
        Withheld(
            item.connector,
            item.table,
            item.reason,
            None if item.record is None else str(item.record + 1),
        )
        for item in entries(request)
    ]


def check_editable(request: DataRequest) -> None:
    if request.status != RequestStatus.REVIEW:
        raise NotEditable(
            "not_in_review",
            _("What goes out can be changed only while the request is in review."),
        )
    if request.release_requested_at and not request.release_error:
        raise NotEditable(
            "release_in_progress", _("The answer is being released: it can no longer be changed.")
        )


def leave_out(
    request: DataRequest,
    connector: str,
    table: str,
    reason: str,
    record: int | None = None,
    *,
    actor: str,
) -> None:
    """Leave a table (record None) or one record out; the caller commits."""
    check_editable(request)
    item = LeftOut(connector, table, reason.strip(), record)
    if item in entries(request) or any(
        (old.connector, old.table, old.record)
        in ((connector, table, record), (connector, table, None))
        for old in entries(request)
    ):
        raise ReviewError(_("This is already left out."))
    try:
        select(request, [*entries(request), item], scope(request))
    except PackError as exc:
        raise ReviewError(str(exc)) from exc
    entry = {
        "connector": connector,
        "table": table,
        "record": record,
        "reason": item.reason,
        "by": actor,
        "at": utcnow().isoformat(),
    }
    request.left_out = [*(request.left_out or []), entry]
    audit.record(
        "release.left_out",
        actor=actor,
        request_id=request.id,
        data={"connector": connector, "table": table, "record": record, "reason": item.reason},
    )


def undo(request: DataRequest, position: int, *, actor: str) -> None:
    """Put back what entry `position` (0-based) left out; the caller commits."""
    check_editable(request)
    current = list(request.left_out or [])
    if not 0 <= position < len(current):
        raise ReviewError(_("Nothing is left out under this number."))
    entry = current.pop(position)
    request.left_out = current
    audit.record(
        "release.left_out_undone",
        actor=actor,
        request_id=request.id,
        data={key: entry.get(key) for key in ("connector", "table", "record")},
    )
