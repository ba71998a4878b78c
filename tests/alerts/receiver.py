"""A local HTTP receiver for Apprise's ``json://`` URLs: it keeps what it is sent and answers
as told (200, 500, or not at all), so tests see what an alert service would get."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, status: int = 200, hang: float = 0.0):
        self.status = status
        self.hang = hang
        self.received: list[dict] = []        # {"path", "body"}
        self.attempts: list[float] = []       # monotonic times of every request
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._arrived:
                    receiver.attempts.append(time.monotonic())
                    receiver._arrived.notify_all()
                if receiver.hang:
                    time.sleep(receiver.hang)
                status = receiver.status
                if status == 200:
                    with receiver._arrived:
                        receiver.received.append({"path": self.path,
                                                  "body": json.loads(body or b"{}")})
                        receiver._arrived.notify_all()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 30, attempts: bool = False) -> list:
        items = self.attempts if attempts else self.received
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(items) >= count, timeout):
                raise AssertionError(f"expected {count}, got {len(items)}")
            return list(items)
