"""A handler's decisions on a request before its processing starts, kept on the request
(`DataRequest.decisions`), each an audit event:

    changes     rectification (Art. 16): each change the person asked for is accepted,
                naming the register fields it corrects ("crm.contacts.postal_address"),
                or refused with a reason the person reads in the answer
    objection   an objection on grounds of a particular situation (Art. 21(1)): upheld
                for the legitimate-interest activities named, or not, because compelling
                legitimate grounds override (the reasoning goes in the answer)
    death_notice
                a post-mortem death notice (Loi 78-17 Art. 85) whose documents the handler
                checked: what is carried out, the deceased's directives in force (erase,
                hand over to the person they designated, keep) or, without directives,
                the heirs' rights chosen

The type's plan reads them (`workflows.base.Case.decisions`); `processing.start`
refuses to start while one is missing (the type's `missing_decision`).
"""

from collections.abc import Iterable

from flask_babel import gettext as _

from connectors.matching import normalise_email
from dsr import audit, directives, documents, systems
from dsr.models import DataRequest
from dsr.models.types import utcnow
from dsr.status import RequestStatus
from workflows.post_mortem import HEIRS_RIGHTS
from workflows.processing_register import activities, field_parts

#: the legal bases an objection under Art. 21(1) can concern
OBJECTABLE_BASES = ("legitimate_interest", "public_task")
#: the longest reason or reasoning a handler may give
TEXT_LIMIT = 4000


class DecisionError(Exception):
    """A decision that cannot be recorded; the message says why (shown as it is)."""


def check_open(request: DataRequest) -> None:
    if request.status != RequestStatus.OPEN:
        raise DecisionError(_("Decisions are taken while the request is open, before it starts."))


def clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text or len(text) > TEXT_LIMIT:
        raise DecisionError(
            _("Give the reasons, for the person (at most %(limit)d characters).", limit=TEXT_LIMIT)
        )
    return text


def correctable_fields() -> list[str]:
    """The register's column fields of declared systems ("crm.contacts.postal_address"):
    what an accepted change may name."""
    declared = systems.all_connectors()
    seen: dict[str, None] = {}
    for activity in systems.register().get("activities", []):
        for field in activity.get("fields", []):
            parts = field_parts(field)
            if parts and parts[2] and parts[0] in declared:
                seen[str(field)] = None
    return sorted(seen)


def decide_change(
    request: DataRequest,
    index: int,
    *,
    accepted: bool,
    fields: Iterable[str] = (),
    reason: str | None = None,
    actor: str,
) -> None:
    """Accept (with the fields it corrects) or refuse (with a reason) change `index` (from 0)
    of a rectification; a new decision replaces the earlier one. The caller commits."""
    check_open(request)
    changes = (request.details or {}).get("changes", [])
    if request.type != "rectification" or not 0 <= index < len(changes):
        raise DecisionError(_("This request has no change under this number."))
    entry: dict = {"index": index, "accepted": accepted, "by": actor, "at": utcnow().isoformat()}
    if accepted:
        fields = list(dict.fromkeys(f.strip() for f in fields if f.strip()))
        unknown = sorted(set(fields) - set(correctable_fields()))
        if not fields or unknown:
            raise DecisionError(
                _(
                    "Name at least one field of the processing register that this change "
                    "corrects (unknown: %(unknown)s).",
                    unknown=", ".join(unknown) or "-",
                )
            )
        entry["fields"] = fields
    else:
        entry["reason"] = clean_text(reason)
    decisions = dict(request.decisions or {})
    kept = [d for d in decisions.get("changes", []) if d.get("index") != index]
    decisions["changes"] = sorted([*kept, entry], key=lambda d: d["index"])
    request.decisions = decisions
    audit.record(
        "decision.change",
        actor=actor,
        request_id=request.id,
        data={"index": index, "accepted": accepted, "fields": entry.get("fields")},
    )


def objectable_activities() -> list[dict]:
    """The register's activities an objection under Art. 21(1) can stop."""
    return [
        activity
        for basis in OBJECTABLE_BASES
        for activity in activities(systems.register(), legal_basis=basis)
    ]


def decide_objection(
    request: DataRequest,
    *,
    upheld: bool,
    activity_ids: Iterable[str] = (),
    reasoning: str | None,
    actor: str,
) -> None:
    """Record whether an objection on grounds of a particular situation is upheld, for which
    activities, and why; a new decision replaces the earlier one. The caller commits."""
    check_open(request)
    if request.type != "objection" or (request.details or {}).get("basis") == "direct_marketing":
        raise DecisionError(
            _("Only an objection on grounds of a particular situation needs a decision.")
        )
    ids = list(dict.fromkeys(activity_ids)) if upheld else []
    known = {activity.get("id") for activity in objectable_activities()}
    if upheld and (not ids or set(ids) - known):
        raise DecisionError(
            _("Name the activities based on legitimate interest that the objection stops.")
        )
    decisions = dict(request.decisions or {})
    decisions["objection"] = {
        "upheld": upheld,
        "activities": ids,
        "reasoning": clean_text(reasoning),
        "by": actor,
        "at": utcnow().isoformat(),
    }
    request.decisions = decisions
    audit.record(
        "decision.objection",
        actor=actor,
        request_id=request.id,
        data={"upheld": upheld, "activities": ids},
    )


def decide_death_notice(request: DataRequest, *, heirs_rights: Iterable[str] = (), actor: str):
    """The handler checked a death notice's documents (the death certificate, the requester's
    quality): record what is carried out. The deceased's directives in force decide; handing
    the data over is only for the person they designated, whose verified address made the
    request. Without directives, the heirs' rights chosen (at least one), for an heir only.
    A new decision replaces the earlier one. The caller commits."""
    check_open(request)
    details = request.details or {}
    if request.type != "post_mortem" or details.get("mode") != "death_notice":
        raise DecisionError(_("Only a death notice needs this decision."))
    if not documents.of_request(request):
        raise DecisionError(_("No document has been sent yet: nothing can be checked."))
    deceased_email = details.get("deceased_email")
    if not deceased_email:
        raise DecisionError(
            _(
                "The notice gives no email address of the deceased: their directives cannot "
                "be looked up, nor their data found. Ask the requester for it."
            )
        )
    directive = directives.in_force(deceased_email)
    died = details.get("date_of_death")
    if directive is not None and died and directive.registered_at.date().isoformat() > died:
        raise DecisionError(
            _(
                "The directives of this address were registered after the date of death the "
                "notice gives: check the documents and the address again."
            )
        )
    entry: dict = {"by": actor, "at": utcnow().isoformat(), "heirs_rights": []}
    if directive is not None:
        if directive.directive == "hand_over" and normalise_email(request.email) != normalise_email(
            directive.trusted_person_email or ""
        ):
            raise DecisionError(
                _(
                    "The deceased's directives hand their data over to the person they "
                    "designated, and this request does not come from that person's address."
                )
            )
        entry.update(
            execute=directive.directive,
            directive_id=directive.id,
            directive_registered_at=directive.registered_at.isoformat(),
        )
    else:
        if details.get("requester_role") != "heir":
            raise DecisionError(
                _(
                    "No directives are registered for the deceased: only an heir may ask for "
                    "the heirs' rights."
                )
            )
        rights = [r for r in dict.fromkeys(heirs_rights) if r]
        if not rights or set(rights) - set(HEIRS_RIGHTS):
            raise DecisionError(_("Choose the heirs' rights to carry out."))
        entry.update(execute="heirs", heirs_rights=rights)
    decisions = dict(request.decisions or {})
    decisions["death_notice"] = entry
    request.decisions = decisions
    audit.record(
        "decision.death_notice",
        actor=actor,
        request_id=request.id,
        data={"execute": entry["execute"], "heirs_rights": entry["heirs_rights"]},
    )
