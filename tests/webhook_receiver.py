"""A real HTTP server on loopback that records what Slack-compatible incoming
webhooks post to it (tests only)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """The posts the receiver took, and how many more it should refuse with a 503."""

    posts: list[tuple[dict[str, str], Any]] = field(default_factory=list)
    refuse: int = 0
    url: str = ""

    def texts(self) -> list[str]:
        return [body["text"] for _, body in self.posts]


@contextmanager
def webhook_receiver() -> Iterator[Received]:
    received = Received()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            with lock:
                if received.refuse > 0:
                    received.refuse -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                received.posts.append((dict(self.headers.items()), json.loads(raw)))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
