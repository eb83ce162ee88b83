"""A fake Kavenegar on 127.0.0.1 for worker processes: it remembers localids as Kavenegar does.

A send whose localid was seen before is answered with the earlier message and not sent again.
`hold()` makes the next sends wait (already sent, like a gateway whose answer is slow to
come back) until `release()`, so a test can kill a worker in the middle of one.
"""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

API_KEY = "fake-kavenegar-key"
HOLD_LIMIT = 15.0  # seconds a held answer waits at most


@dataclass
class FakeKavenegar:
    base_url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)  # every send request
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # by localid: what went out
    arrived: threading.Event = field(default_factory=threading.Event)
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._released.set()

    def hold(self) -> None:
        self.arrived.clear()
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def send(self, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(form)
            entry = self.sent.get(form["localid"])
            if entry is None:
                entry = {
                    "messageid": 9_000_000 + len(self.sent),
                    "message": form["message"],
                    "status": 1,
                    "statustext": "در صف ارسال",
                    "sender": form["sender"],
                    "receptor": form["receptor"],
                    "date": int(time.time()),
                    "cost": 1200,
                }
                self.sent[form["localid"]] = entry
        self.arrived.set()
        self._released.wait(HOLD_LIMIT)
        return entry


def _handler(fake: FakeKavenegar) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if self.path != f"/{API_KEY}/sms/send.json":
                self._answer(404, {"return": {"status": 404, "message": "not found"}})
                return
            entry = fake.send(form)
            self._answer(
                200, {"return": {"status": 200, "message": "تایید شد"}, "entries": [entry]}
            )

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the worker was killed while waiting: its answer is lost, as in life

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_fake_kavenegar() -> Iterator[FakeKavenegar]:
    fake = FakeKavenegar()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release()
        server.shutdown()
        server.server_close()
        thread.join(5)
