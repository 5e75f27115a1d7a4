"""The demo SMS platform: the `webhook` connector kind, which answers later through a callback.

    python -m connectors.demo.sms --port 8702 --secret-env DSR_SMS_SECRET --delay 3 [--faults]

- `GET /health`
- `GET /subscriptions` (the promotions opt-in list; `?phone=...` for one number,
  compared normalised) and `GET /numbers?phone=...` (every row about a number,
  by table): how to see what the DSR actions did
- `POST /dsr`: a task notice signed with the shared secret (`X-DSR-Signature`,
  401 if it does not verify). The platform answers 202 `{"accepted": true}` at
  once; `--delay` seconds later it does the task (`sms_actions`) and POSTs the
  answer body (`{"task_id", "status", "records", "outcome"}` or `{"task_id",
  "status": "failed", "error"}`, naming the task so the answer fits no other
  one) to the notice's `callback_url`, signed with the same secret, retrying
  with backoff while the engine cannot be reached or answers 5xx.
  It finds people by phone only (`subject.identifiers.phone`) and does every
  action: `erase` deletes the number's rows but leaves it on the promotions
  opt-out list; `object` and `withdraw_consent` (of `sms_promotions`) opt it
  out; `restrict` sets `restricted_at` on its contact; `rectify` changes
  `contacts.first_name`.

With `--faults`, `POST /_faults {"mode": "bad_signature" | "none", "times": N}`
signs the next N callbacks with a wrong secret, which the engine must refuse;
`POST /_reset` restores the seeded data. Without `--faults` both are 404.
"""

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

from connectors import signature
from connectors.base import ACTIONS
from connectors.demo.server import (
    Faults,
    JsonHandler,
    arguments,
    configure_logging,
    listen,
    serve,
)
from connectors.demo.sms_actions import answer
from connectors.demo.sms_data import SmsStore
from connectors.matching import normalise_phone

logger = logging.getLogger(__name__)

#: callback deliveries: this many attempts, waiting 1, 2, 4... seconds between them
ATTEMPTS = 5


def deliver(url: str, body: bytes, secret: str, wait: float = 1.0) -> bool:
    """POST a signed answer to the engine; retry while it is unreachable or answers 5xx/429."""
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                signature.HEADER: signature.sign(secret, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                logger.info("callback to %s: HTTP %s", url, response.status)
                return True
        except urllib.error.HTTPError as exc:
            logger.warning("callback to %s: HTTP %s (attempt %s)", url, exc.code, attempt)
            if exc.code < 500 and exc.code != 429:
                return False  # refused: sending the same thing again will not help
        except OSError as exc:
            logger.warning("callback to %s failed: %s (attempt %s)", url, exc, attempt)
        if attempt < ATTEMPTS:
            time.sleep(wait * 2 ** (attempt - 1))
    logger.error("callback to %s abandoned after %s attempts", url, ATTEMPTS)
    return False


class SmsHandler(JsonHandler):
    server_version = "DemoSMS/1.0"

    def do_GET(self):
        url = urlsplit(self.path)
        phones = [normalise_phone(v) for v in parse_qs(url.query).get("phone", [])]
        store = self.server.store
        if url.path == "/health":
            self.send_json(200, {"status": "ok", "numbers": len(store.tables["contacts"])})
        elif url.path == "/subscriptions":
            self.send_json(200, {"subscriptions": store.subscriptions(phones)})
        elif url.path == "/numbers":
            if phones:
                self.send_json(200, store.records(phones))
            else:
                self.error(400, "give phone")
        else:
            self.error(404, f"no such endpoint: GET {url.path}")

    def dsr(self) -> None:
        notice = self.signed_json()
        if notice is None:
            return
        problem = _check(notice)
        if problem:
            self.error(422 if "not supported" in problem else 400, problem)
            return
        self.send_json(202, {"accepted": True, "task_id": notice["task_id"]})
        threading.Thread(target=self.later, args=(notice,), daemon=True).start()

    def later(self, notice: dict) -> None:
        """After the delay: do the task, then call the engine back."""
        time.sleep(self.server.delay)
        reply = {"task_id": notice["task_id"], **answer(self.server.store, notice)}
        body = json.dumps(reply, ensure_ascii=False).encode()
        fault = self.server.faults and self.server.faults.take()
        secret = self.server.secret + "-wrong" if fault else self.server.secret
        deliver(notice["callback_url"], body, secret)


def _check(notice) -> str | None:
    """What is wrong with a notice, or None."""
    if not isinstance(notice, dict):
        return "the body must be a JSON object (a task notice)"
    if not isinstance(notice.get("task_id"), str) or not notice["task_id"]:
        return "task_id is required"
    if notice.get("action") not in ACTIONS:
        return (
            f"action {notice.get('action')!r} is not supported by the SMS platform "
            f"(it does {', '.join(ACTIONS)})"
        )
    url = notice.get("callback_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return "callback_url must be an http(s) URL: the answer is sent there"
    return None


def main(argv: list[str] | None = None) -> None:
    parser = arguments(
        "connectors.demo.sms",
        "The demo SMS platform (webhook connector kind).",
        8702,
        "DSR_SMS_SECRET",
    )
    parser.add_argument(
        "--delay", type=float, default=3.0, help="seconds before calling back (default 3)"
    )
    args = parser.parse_args(argv)
    if args.delay < 0:
        parser.error("--delay must be 0 or more seconds")
    configure_logging()
    faults = Faults(("bad_signature",)) if args.faults else None
    server = listen(parser, args, SmsHandler, SmsStore(), faults)
    server.delay = args.delay
    serve(server, "sms", f"POST /dsr, callbacks after {args.delay:g} s")


if __name__ == "__main__":
    main()
