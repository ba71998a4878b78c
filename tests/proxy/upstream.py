"""A tiny real Tornado server standing in for the scheduler behind the proxy: it records what
reaches it and echoes the request headers back."""
from __future__ import annotations

import asyncio
import threading

import tornado.web


class _Echo(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def _answer(self, *_):
        seen = self.settings["seen"]
        seen.append({"method": self.request.method, "path": self.request.path,
                     "headers": dict(self.request.headers)})
        if self.request.path == "/loose-policy":   # what a squatter on PORT+1 would send
            self.set_header("Content-Security-Policy", "default-src * 'unsafe-inline'")
            self.set_header("X-Frame-Options", "SAMEORIGIN")
        if self.request.path == "/missing":
            self.set_status(404)
            self.write({"error": "no such thing"})
            return
        self.write({"headers": dict(self.request.headers), "body_size": len(self.request.body)})

    get = head = post = put = patch = delete = options = _answer


class Upstream:
    def __init__(self, port: int):
        self.port = port
        self.seen: list[dict] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Upstream":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("upstream did not start")
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return                      # stopped already (a test stops it to make a 502)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop_event.set)
        self._thread.join(10)

    def _run(self):
        asyncio.run(self._serve())

    async def _serve(self):
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        app = tornado.web.Application([(r"/.*", _Echo)], seen=self.seen)
        server = app.listen(self.port, "127.0.0.1")
        self._ready.set()
        await self._stop_event.wait()
        server.stop()
