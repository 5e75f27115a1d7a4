"""The demo CRM: its own small REST API, and the DSR endpoint of the `http` connector kind.

    python -m connectors.demo.crm --port 8701 --secret-env DSR_CRM_SECRET [--faults]

- `GET /health`
- `GET /contacts?email=...` (or `phone=`, `customer_number=`; compared normalised)
- `GET /contacts/<id>`, `GET /contacts/<id>/<table>` (accounts, consents, tickets,
  login_events)
- `POST /dsr`: a task notice signed with the shared secret (`X-DSR-Signature`,
  401 if it does not verify). The CRM does the task at once (`crm_actions`) and
  answers 200 with `{"status": "succeeded", "records": {table: [...]}, "outcome":
  "..."}`, or `{"status": "failed", "error": "..."}`. It does every action:
  `access`, `erase` (keeping what `details.keep` names, marked restricted),
  `rectify`, `restrict`/`lift_restriction` (`restricted_at` on the contact),
  `object` and `withdraw_consent` (rows added to the person's `consents` log).
  It finds the person by email, phone or customer number.

With `--faults`, `POST /_faults {"mode": "error" | "slow" | "malformed" | "none",
"times": N, "seconds": S}` makes the next N `/dsr` calls answer HTTP 500, wait S
seconds before answering, or send a truncated JSON body; `POST /_reset` restores
the seeded data. Without `--faults` both are 404.
"""

import time
from urllib.parse import parse_qs, urlsplit

from connectors.demo.crm_actions import answer
from connectors.demo.crm_data import TABLES, CrmStore
from connectors.demo.server import (
    Faults,
    JsonHandler,
    arguments,
    configure_logging,
    listen,
    serve,
)
from connectors.matching import (
    normalise_customer_number,
    normalise_email,
    normalise_phone,
)

#: what the `malformed` fault sends: a body cut off in the middle
MALFORMED = b'{"status": "succeeded", "records": {"contacts": [{"id": 1, "first_name": "Cam'


class CrmHandler(JsonHandler):
    server_version = "DemoCRM/1.0"

    def do_GET(self):
        url = urlsplit(self.path)
        parts = [part for part in url.path.split("/") if part]
        if parts == ["health"]:
            self.send_json(
                200, {"status": "ok", "contacts": len(self.server.store.tables["contacts"])}
            )
        elif parts == ["contacts"]:
            self.search(parse_qs(url.query))
        elif parts[:1] == ["contacts"] and len(parts) in (2, 3):
            self.contact(parts[1], parts[2] if len(parts) == 3 else "contacts")
        else:
            self.error(404, f"no such endpoint: GET {url.path}")

    def search(self, query: dict[str, list[str]]) -> None:
        emails = [normalise_email(v) for v in query.get("email", [])]
        phones = [normalise_phone(v) for v in query.get("phone", [])]
        numbers = [normalise_customer_number(v) for v in query.get("customer_number", [])]
        if not (emails or phones or numbers):
            self.error(400, "give email, phone or customer_number")
            return
        ids = self.server.store.find(emails, phones, numbers)
        self.send_json(200, {"contacts": self.server.store.rows("contacts", ids)})

    def contact(self, raw_id: str, table: str) -> None:
        store = self.server.store
        if not raw_id.isdigit() or not store.rows("contacts", [int(raw_id)]):
            self.error(404, f"no contact {raw_id}")
        elif table not in TABLES:
            self.error(404, f"no table {table!r}; the CRM has {', '.join(TABLES)}")
        elif table == "contacts":
            self.send_json(200, store.rows("contacts", [int(raw_id)])[0])
        else:
            self.send_json(200, {table: store.rows(table, [int(raw_id)])})

    def dsr(self) -> None:
        notice = self.signed_json()
        if notice is None:
            return
        if not isinstance(notice, dict):
            self.error(400, "the body must be a JSON object (a task notice)")
            return
        mode, seconds = (self.server.faults and self.server.faults.take()) or ("none", 0)
        if mode == "error":
            self.error(500, "injected fault: the CRM is out of order")
        elif mode == "malformed":
            self.send_json(200, raw=MALFORMED)
        else:
            time.sleep(seconds if mode == "slow" else 0)
            self.send_json(200, answer(self.server.store, notice))


def main(argv: list[str] | None = None) -> None:
    parser = arguments(
        "connectors.demo.crm",
        "The demo CRM (http connector kind).",
        8701,
        "DSR_CRM_SECRET",
    )
    args = parser.parse_args(argv)
    configure_logging()
    faults = Faults(("error", "slow", "malformed")) if args.faults else None
    server = listen(parser, args, CrmHandler, CrmStore(), faults)
    serve(server, "crm", "POST /dsr, GET /contacts")


if __name__ == "__main__":
    main()
