"""What the demo SMS platform does with each task notice, in its store; the answer body.

The platform finds people by phone only. A person it does not know is
answered "no data"; details it cannot act on (a field it does not hold, an
activity it does not run) are a failed answer naming them.
"""

from connectors.demo.server import summary
from connectors.demo.sms_data import SCHEMA, SmsStore
from connectors.demo.store import changed, marked
from connectors.details import BadDetails, activities, changes, kept
from connectors.matching import Subject
from connectors.outcome import NO_DATA

#: the register activity whose consent the promotions opt-in list records
PROMOTIONS = "sms_promotions"
#: the platform's other activity: messages about rides, part of the contract
SERVICE = "service_sms"
#: what a rectification may change: the number is the key, and the rest is the
#: platform's own record of what it sent
RECTIFIABLE = ("contacts.first_name",)


class Refused(Exception):
    """The task cannot be done as asked; the message is the failed answer's error."""


def answer(store: SmsStore, notice: dict) -> dict:
    """The answer body to an accepted notice, after doing the task."""
    try:
        phones = Subject.from_json(notice.get("subject") or {}).phones
    except (AttributeError, TypeError):
        return {"status": "failed", "error": "the notice's subject is not a JSON object"}
    action, details = notice["action"], notice.get("details")
    try:
        do = DOING[action](details)
    except (BadDetails, Refused) as exc:
        return {"status": "failed", "error": str(exc)}
    if not phones:
        return {
            "status": "succeeded",
            "records": {},
            "outcome": f"{NO_DATA}: no phone number given",
        }
    if not store.records(phones):
        return {"status": "succeeded", "records": {}, "outcome": NO_DATA}
    source = f"{REASONS.get(action, action)} ({notice.get('request_ref') or 'DSR'})"
    return {"status": "succeeded", **do(store, phones, source)}


def _access(details):
    def do(store, phones, source):
        records = store.records(phones)
        counts = {table: len(rows) for table, rows in records.items()}
        return {"records": records, "outcome": f"found {summary(counts)}"}

    return do


def _erase(details):
    keep = kept(details)
    for field in keep:
        if field.table not in SCHEMA or (field.column and field.column not in SCHEMA[field.table]):
            raise Refused(f"cannot keep {field}: the SMS platform has no such field")

    def do(store, phones, source):
        deleted, held, lines = store.erase(phones, keep, source)
        phrases = [f"deleted {summary(deleted)}"] if summary(deleted) else []
        if summary(held):
            phrases.append(f"kept {summary(held)} (legal hold, restricted)")
        return {"outcome": "; ".join(phrases + lines) or NO_DATA}

    return do


def _rectify(details):
    wanted = changes(details)
    for change in wanted:
        if str(change.field) not in RECTIFIABLE:
            raise Refused(
                f"the SMS platform has no field {str(change.field)!r} it can rectify "
                f"(it can: {', '.join(RECTIFIABLE)})"
            )

    def do(store, phones, source):
        return {"outcome": changed(store, phones, wanted)}

    return do


def _marking(restricting: bool):
    def read(details):
        def do(store, phones, source):
            return {"outcome": marked(store, phones, restricting)}

        return do

    return read


def _opt_out(details):
    """`object` and `withdraw_consent`: the number goes on the promotions opt-out list.

    Details without `activities` (an engine that does not name them yet) can only
    mean the platform's one marketing activity, which is what stopping is urgent for
    (Art. 21(3))."""
    unnamed = details is None or (isinstance(details, dict) and "activities" not in details)
    for activity in [PROMOTIONS] if unnamed else activities(details):
        if activity == SERVICE:
            raise Refused(f"{SERVICE} (messages about rides) is part of the contract")
        if activity != PROMOTIONS:
            raise Refused(f"the SMS platform runs no activity {activity!r}")

    def do(store, phones, source):
        return {"outcome": "; ".join(store.opt_out(phones, source)) or NO_DATA}

    return do


#: each action: a reader of the details (checks them, may raise) returning what to do
DOING = {
    "access": _access,
    "erase": _erase,
    "rectify": _rectify,
    "restrict": _marking(True),
    "lift_restriction": _marking(False),
    "object": _opt_out,
    "withdraw_consent": _opt_out,
}
#: why a number was opted out, in the list's `opt_out_source`
REASONS = {"erase": "erasure", "object": "objection", "withdraw_consent": "consent withdrawn"}
