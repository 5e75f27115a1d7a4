"""What the demo CRM does with each task notice, in its store; the answer body it sends.

Every action finds the person by email, phone or customer number; a person
the CRM does not know is answered "no data". The notice's `details` are read
as the protocol gives them (`connectors.details`); a field or an activity the
CRM does not have is a failed answer naming it, before anything changes.
"""

from connectors.base import ACTIONS
from connectors.demo.crm_data import SCHEMA, CrmStore
from connectors.demo.server import summary
from connectors.demo.store import changed, marked
from connectors.details import BadDetails, activities, changes, kept
from connectors.matching import Subject
from connectors.outcome import NO_DATA

#: the register activities the CRM runs on consent, and their purpose in `consents`
CONSENT_PURPOSES = {"email_newsletter": "email_newsletter"}
#: the other register activities the CRM runs; an upheld objection is recorded in
#: `consents` with the status "objected", and the CRM stops the processing for the person
OTHER_ACTIVITIES = ("account_management", "customer_support", "fraud_prevention")
#: columns that are no one's data: keys and the restriction mark
NOT_RECTIFIABLE = ("id", "contact_id", "restricted_at")


class Refused(Exception):
    """The task cannot be done as asked; the message is the failed answer's error."""


def answer(store: CrmStore, notice: dict) -> dict:
    """The answer body to a task notice, after doing the task."""
    action = notice.get("action")
    if action not in ACTIONS:
        return _failed(f"action {action!r} is not supported by the CRM")
    try:
        subject = Subject.from_json(notice.get("subject") or {})
    except (AttributeError, TypeError):
        return _failed("the notice's subject is not a JSON object")
    try:
        do = DOING[action](notice)
    except (BadDetails, Refused) as exc:
        return _failed(str(exc))
    contact_ids = store.find_subject(subject)
    if not contact_ids:
        return {"status": "succeeded", "records": {}, "outcome": NO_DATA}
    return {"status": "succeeded", **do(store, contact_ids)}


def _failed(error: str) -> dict:
    return {"status": "failed", "error": error}


def _access(notice):
    def do(store, contact_ids):
        records = store.records(contact_ids)
        counts = {table: len(rows) for table, rows in records.items()}
        return {"records": records, "outcome": f"found {summary(counts)}"}

    return do


def _erase(notice):
    keep = kept(notice.get("details"))
    for field in keep:
        if field.table not in SCHEMA or (field.column and field.column not in SCHEMA[field.table]):
            raise Refused(f"cannot keep {field}: the CRM has no such field")

    def do(store, contact_ids):
        deleted, held = store.erase(contact_ids, keep)
        phrases = [f"deleted {summary(deleted)}"] if summary(deleted) else []
        if summary(held):
            phrases.append(f"kept {summary(held)} (legal hold, restricted)")
        return {"outcome": "; ".join(phrases) or NO_DATA}

    return do


def _rectify(notice):
    wanted = changes(notice.get("details"))
    for change in wanted:
        table, column = change.field.table, change.field.column
        if column not in SCHEMA.get(table, ()) or column in NOT_RECTIFIABLE:
            raise Refused(f"the CRM has no field {str(change.field)!r}")

    def do(store, contact_ids):
        return {"outcome": changed(store, contact_ids, wanted)}

    return do


def _marking(restricting: bool):
    def read(notice):
        def do(store, contact_ids):
            return {"outcome": marked(store, contact_ids, restricting)}

        return do

    return read


def _consent(notice):
    """`object` and `withdraw_consent`: consent purposes get a "withdrawn" row, other
    activities (objection only) an "objected" one."""
    action, named = notice["action"], activities(notice.get("details"))
    for activity in named:
        if activity not in CONSENT_PURPOSES and activity not in OTHER_ACTIVITIES:
            raise Refused(f"the CRM runs no activity {activity!r}")
        if action == "withdraw_consent" and activity not in CONSENT_PURPOSES:
            raise Refused(f"the CRM does not run {activity!r} on consent")
    reason = "objection" if action == "object" else "consent withdrawn"
    source = f"{reason} ({notice.get('request_ref') or 'DSR'})"

    def do(store, contact_ids):
        lines = []
        for activity in named:
            lines += _consent_lines(store, contact_ids, activity, source)
        return {"outcome": "; ".join(lines)}

    return do


def _consent_lines(store: CrmStore, contact_ids, activity: str, source: str) -> list[str]:
    if activity in CONSENT_PURPOSES:
        purpose = CONSENT_PURPOSES[activity]
        done = store.record_consent(
            contact_ids, purpose, "withdrawn", source, (None, "withdrawn", "refused")
        )
        verb, unchanged = "withdrew consent to", "no consent in force for"
    else:
        purpose = activity
        done = store.record_consent(contact_ids, purpose, "objected", source, ("objected",))
        verb, unchanged = "recorded the objection to", "objection already recorded to"
    lines = []
    for latest, added in done:
        if added:
            lines.append(f"{verb} {purpose} on {added['recorded_at']}")
        elif latest:
            lines.append(f"{unchanged} {purpose} ({latest['status']} on {latest['recorded_at']})")
        else:
            lines.append(f"no consent to {purpose} on record")
    return lines


#: each action: a reader of the notice (checks it, may raise) returning what to do
DOING = {
    "access": _access,
    "erase": _erase,
    "rectify": _rectify,
    "restrict": _marking(True),
    "lift_restriction": _marking(False),
    "object": _consent,
    "withdraw_consent": _consent,
}
