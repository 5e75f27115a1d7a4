"""What the demo CRM and SMS platform share: a JSON handler, signature checks, faults, the CLI.

Both are plain `http.server` processes on loopback, so that the engine talks to
them over real sockets exactly as it would to a vendor's API. With `--faults`
they also serve test-only control endpoints: `POST /_faults` makes the next
calls misbehave, `POST /_reset` brings the data back to its seeded state.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from connectors import signature
from connectors.outcome import count_phrase

logger = logging.getLogger(__name__)

#: a task notice is small; anything larger is refused before it is read
MAX_BODY = 1_000_000


class Faults:
    """The next `times` calls misbehave in `mode`; tests use it to show retries."""

    def __init__(self, modes: Iterable[str]):
        self.modes = ("none", *modes)
        self._lock = threading.Lock()
        self.mode, self.times, self.seconds = "none", 0, 0.0

    def set(self, data) -> str | None:
        """Apply a `/_faults` body; an error message if it is wrong."""
        if not isinstance(data, dict) or data.get("mode") not in self.modes:
            return f"mode must be one of {', '.join(self.modes)}"
        times, seconds = data.get("times", 1), data.get("seconds", 0)
        if not isinstance(times, int) or times < 0:
            return "times must be a whole number, 0 or more"
        if not isinstance(seconds, int | float) or seconds < 0:
            return "seconds must be a number, 0 or more"
        with self._lock:
            self.mode, self.times, self.seconds = data["mode"], times, float(seconds)
        return None

    def take(self) -> tuple[str, float] | None:
        """The fault for this call, if one is still due: (mode, seconds)."""
        with self._lock:
            if self.mode == "none" or self.times <= 0:
                return None
            self.times -= 1
            return self.mode, self.seconds


class DemoServer(ThreadingHTTPServer):
    """A threading HTTP server holding a demo system's secret, data and fault switch."""

    daemon_threads = True

    def __init__(self, address, handler, secret: str, store, faults: Faults | None):
        super().__init__(address, handler)
        self.secret, self.store, self.faults = secret, store, faults


class JsonHandler(BaseHTTPRequestHandler):
    """Helpers for JSON endpoints; subclasses answer `GET`s and define `dsr()`."""

    server: DemoServer

    def send_json(self, status: int, payload=None, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            logger.info("the client left before the answer (%s %s)", self.command, self.path)

    def error(self, status: int, message: str) -> None:
        self.send_json(status, {"error": message})

    def read_body(self) -> bytes | None:
        """The request body, or None after answering 400/413 when it cannot be read."""
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if length < 0:
            self.error(400, "a Content-Length header is required")
            return None
        if length > MAX_BODY:
            self.error(413, f"the body is larger than {MAX_BODY} bytes")
            return None
        return self.rfile.read(length)

    def read_json(self, body: bytes):
        """The parsed body, or None after answering 400."""
        try:
            return json.loads(body)
        except ValueError as exc:
            self.error(400, f"the body is not valid JSON: {exc}")
            return None

    def signed_json(self):
        """The JSON body of a request signed with the shared secret, or None after
        answering 401 (bad signature) or 400 (bad body)."""
        body = self.read_body()
        if body is None:
            return None
        try:
            signature.verify(self.server.secret, self.headers.get(signature.HEADER), body)
        except signature.SignatureError as exc:
            self.error(401, f"signature refused: {exc}")
            return None
        return self.read_json(body)

    def do_POST(self):
        """`POST /dsr` (the subclass's `dsr()`), and the test-only control endpoints."""
        if self.path == "/dsr":
            self.dsr()
        elif self.path in ("/_faults", "/_reset"):
            self.control()
        else:
            self.error(404, f"no such endpoint: POST {self.path}")

    def dsr(self) -> None:
        raise NotImplementedError

    def control(self) -> None:
        """`POST /_faults` and `POST /_reset`: test-only, 404 unless started with --faults."""
        if self.server.faults is None:
            self.error(404, f"no such endpoint: {self.path}")
            return
        if self.path == "/_reset":
            self.server.store.reset()
            self.server.faults.set({"mode": "none"})
            self.send_json(200, {"reset": True})
            return
        body = self.read_body()
        data = None if body is None else self.read_json(body)
        if data is None:
            return
        problem = self.server.faults.set(data)
        if problem:
            self.error(400, problem)
        else:
            self.send_json(200, {"mode": data["mode"], "times": data.get("times", 1)})

    def log_message(self, format, *args):
        logger.info("%s %s", self.address_string(), format % args)


def summary(counts: dict[str, int]) -> str:
    """`{"contacts": 1, "consents": 0, "tickets": 2}` -> `1 contact, 2 tickets`, worded
    as the engine words its own outcomes."""
    return ", ".join(count_phrase(count, table) for table, count in counts.items() if count)


def arguments(module: str, description: str, port: int, secret_env: str):
    """The command line both HTTP demo systems take."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=port, help=f"port (default {port})")
    parser.add_argument(
        "--secret-env",
        default=secret_env,
        help=f"environment variable holding the HMAC secret shared with the engine "
        f"(default {secret_env})",
    )
    parser.add_argument(
        "--faults", action="store_true", help="serve POST /_faults and /_reset (for tests)"
    )
    return parser


def secret_from(parser: argparse.ArgumentParser, name: str) -> str:
    """The shared secret, or exit with a message saying which variable to set."""
    secret = os.environ.get(name, "")
    if not secret:
        parser.error(f"environment variable {name} is not set; export the secret the engine uses")
    return secret


def listen(parser, args, handler, store, faults: Faults | None) -> DemoServer:
    """Bind the server, or exit with a message if the address is taken."""
    secret = secret_from(parser, args.secret_env)
    try:
        return DemoServer((args.host, args.port), handler, secret, store, faults)
    except OSError as exc:
        parser.error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")


def serve(server: DemoServer, name: str, endpoints: str) -> None:
    """Serve until SIGTERM or Ctrl-C, then close the socket."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host, port = server.server_address[:2]
    logger.info("%s listening on http://%s:%s (%s)", name, host, port, endpoints)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        logger.info("%s stopped", name)


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
