"""A local fake of the parts of Twilio's REST API the service uses, on 127.0.0.1.

A small threaded `http.server` that records every request and answers from a script:

- `POST /2010-04-01/Accounts/<AC>/Messages.json` (messages.create): by default 201 with a
  Message resource; `script("500", "429", "21610", "201")` queues the next answers: "500"
  and "429" are those statuses with Twilio's error body, any other code (21610, 21211,
  63016) is a 400 with that error code, "201" a success.
- `GET /2010-04-01/Accounts/<AC>/Messages.json?To=...&From=...` (messages.list): the
  messages it accepted, newest first, filtered by To and From.
- `POST /v1/Content` (content.v1.contents.create): 201 with a Content resource (HX...).
- `POST /staff` and anything else: a staff webhook; 204, or the statuses in `staff_script`.

The twilio client reaches it through bot.jobs.outbound.RedirectingHttpClient (the route
twilio-python recommends for a mock API: a custom http_client, twilio/twilio-python#521);
set `BOT_TWILIO_API_URL` to `fake.url`.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    form: dict[str, str] = field(default_factory=dict)
    json: object = None


ERRORS = {
    "500": (500, 20500, "Internal Server Error"),
    "429": (429, 20429, "Too Many Requests"),
    "21610": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "21211": (400, 21211, "The 'To' number is not a valid phone number."),
    "63016": (400, 63016, "Failed to send freeform message because you are outside the window"),
}


class FakeTwilio:
    """Start with `start()`, stop with `stop()`; `requests` lists what it received."""

    ACCOUNT = "AC" + "0" * 32

    def __init__(self):
        self.requests: list[Recorded] = []
        self.sent: list[dict] = []
        self._answers: list[str] = []
        self.staff_script: list[int] = []
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # --- control ---------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                fake._handle(self)

            def log_message(self, *args):  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *answers: str) -> None:
        """Queue the next answers to messages.create (see the module docstring)."""
        with self._lock:
            self._answers.extend(answers)

    # --- what was received -----------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, str]]:
        """The form of every messages.create request, in order (failed ones included)."""
        return [
            r.form
            for r in self.requests
            if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    @property
    def bodies(self) -> list[str]:
        return [m.get("Body", "") for m in self.messages]

    @property
    def contents(self) -> list[dict]:
        return [r.json for r in self.requests if r.path == "/v1/Content"]

    @property
    def staff(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/staff")]

    # --- serving ---------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        record = Recorded(handler.command, handler.path, dict(handler.headers.items()), raw)
        kind = handler.headers.get("Content-Type", "")
        if "json" in kind and raw:
            record.json = json.loads(raw)
        elif raw:
            record.form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        with self._lock:
            self.requests.append(record)
            is_message = handler.path.split("?")[0].endswith("/Messages.json")
            is_staff = not is_message and handler.path != "/v1/Content"
            answer = self._answers.pop(0) if is_message and self._answers else "201"
            staff = self.staff_script.pop(0) if is_staff and self.staff_script else 204
        if is_message and handler.command == "GET":
            self._list(handler)
        elif is_message:
            self._message(handler, record, answer)
        elif is_staff:
            self._send(handler, staff, b"")
        else:
            self._content(handler, record)

    def _message(self, handler, record: Recorded, answer: str) -> None:
        if answer != "201":
            status, code, message = ERRORS.get(answer, (400, int(answer), "Error"))
            body = {"code": code, "message": message, "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}  # fmt: skip
            self._send(handler, status, json.dumps(body).encode())
            return
        sid = f"SM{next(self._sids):032x}"
        body = {
            "sid": sid,
            "account_sid": self.ACCOUNT,
            "to": record.form.get("To"),
            "from": record.form.get("From"),
            "body": record.form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": format_datetime(datetime.now(UTC).replace(microsecond=0)),
            "uri": f"/2010-04-01/Accounts/{self.ACCOUNT}/Messages/{sid}.json",
        }
        with self._lock:
            self.sent.insert(0, body)
        self._send(handler, 201, json.dumps(body).encode())

    def _list(self, handler) -> None:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        with self._lock:
            found = [m for m in self.sent if all(m.get(k.lower()) == query[k] for k in
                     ("To", "From") if k in query)]  # fmt: skip
        base = urlsplit(handler.path).path
        body = {"messages": found, "page": 0, "page_size": len(found) or 50,
                "first_page_uri": base, "next_page_uri": None, "previous_page_uri": None,
                "uri": handler.path, "start": 0, "end": max(len(found) - 1, 0)}  # fmt: skip
        self._send(handler, 200, json.dumps(body).encode())

    def _content(self, handler, record: Recorded) -> None:
        doc = record.json if isinstance(record.json, dict) else {}
        sid = f"HX{next(self._sids):032x}"
        body = {**doc, "sid": sid, "account_sid": self.ACCOUNT,
                "url": f"https://content.twilio.com/v1/Content/{sid}"}  # fmt: skip
        self._send(handler, 201, json.dumps(body).encode())

    @staticmethod
    def _send(handler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
