"""A tiny SMS gateway for the tests: records every POST it gets, as JSON lines, and answers 202.

    python tests/sms_gateway_process.py PORT RECORD_FILE

Each line holds the request's path, its Authorization header and its parsed body.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Gateway(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        entry = {
            "path": self.path,
            "authorization": self.headers.get("Authorization"),
            "content_type": self.headers.get("Content-Type"),
            "body": json.loads(body),
        }
        with open(sys.argv[2], "a", encoding="utf-8") as record:
            record.write(json.dumps(entry) + "\n")
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"queued": true}')

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Gateway).serve_forever()
