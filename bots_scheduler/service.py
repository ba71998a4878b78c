"""One running Bots Scheduler: the proxy process, the web server and the scheduler, started and
stopped together.

Order: datastore check -> proxy (unless --local) -> web server on PORT+1 -> scheduler.  On
SIGINT/SIGTERM, or when the proxy dies: the proxy stops first (it forwards nothing more), then
the web server closes PORT+1, then firing stops, running executions get a grace period and the
rest are recorded as stopped.  The proxy never outlives the scheduler's socket: another local
user who binds PORT+1 once it is free receives no forwarded request (no identity headers, no
proxy secret) and reaches no browser.
"""
from __future__ import annotations

import errno
import logging
import os
import secrets
import signal
import sys

import tornado.ioloop
from tornado.netutil import bind_sockets

from bots_scheduler.app import Application
from bots_scheduler.errors import UsageError
from bots_scheduler.settings import Settings
from bots_scheduler.web.server import make_web_app, serve_on

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 10.0   # seconds running executions get to finish when the server stops
WATCH_INTERVAL_MS = 1000


class ProxyFailed(Exception):
    """The proxy process did not start (already logged)."""


class Service:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.proxy = None
        self.exit_status = 0
        self._stopping = False

    def serve(self) -> int:
        settings = self.settings
        self.datastore_lock = _claim_datastore(settings)
        secret = None if settings.local else secrets.token_urlsafe(32)
        if not settings.local:
            self.proxy = _proxy_process(settings, secret)
            _check_free(settings.port, "127.0.0.1" if settings.debug else "0.0.0.0", "the proxy")
        # hold the scheduler's port from the start: a taken port fails before anything starts
        sockets = _bind(settings.scheduler_port)
        app = Application(settings, proxy_secret=secret)
        app.prepare()      # DatastoreUnavailable: one line and exit 2 (cli/main.py)
        self.app = app
        loop = tornado.ioloop.IOLoop.current()
        try:
            if self.proxy is not None:
                message = self.proxy.prepare()
                certificate_line = self.proxy.prepare_certificate()
                try:
                    self.proxy.start()
                except RuntimeError as exc:   # not the user's doing: the proxy's own log says why
                    log.error("the authentication proxy did not start: %s", exc)
                    raise ProxyFailed from None
                print(certificate_line, flush=True)
                if message:
                    print(message, flush=True)
            self.http_server = serve_on(make_web_app(app), sockets)
            app.start()
        except BaseException:
            self._stop_proxy()
            app.datastore.dispose()
            raise
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda s, _f: loop.add_callback_from_signal(self.stop, s))
        if self.proxy is not None:
            tornado.ioloop.PeriodicCallback(self._watch_proxy, WATCH_INTERVAL_MS).start()
        print(self._banner(), flush=True)
        loop.start()
        return self.exit_status

    def _banner(self) -> str:
        s = self.settings
        if s.local:
            return (f"Bots Scheduler is running at http://127.0.0.1:{s.scheduler_port}/ "
                    f"(local mode, no proxy; datastore: {s.database.dbms})")
        host = "127.0.0.1" if s.debug else "0.0.0.0"
        return (f"Bots Scheduler is running at https://{host}:{s.port}/ "
                f"(authentication proxy; scheduler on 127.0.0.1:{s.scheduler_port}; "
                f"datastore: {s.database.dbms})")

    def _watch_proxy(self):
        if self.proxy is not None and not self._stopping and not self.proxy.is_alive():
            log.error("the authentication proxy stopped unexpectedly; stopping the scheduler")
            self.exit_status = 1
            self.stop()

    def stop(self, signum=None):
        if self._stopping:
            return
        self._stopping = True
        if signum is not None:
            log.info("received %s: stopping", signal.Signals(signum).name)
        loop = tornado.ioloop.IOLoop.current()
        # the proxy first: once PORT+1 is released, nothing may forward to it any more
        self._stop_proxy()
        self.http_server.stop()
        # the grace period blocks; run it off the event loop so in-flight requests finish
        future = loop.run_in_executor(None, self.app.stop, SHUTDOWN_GRACE)
        future.add_done_callback(lambda _f: loop.add_callback(self._finish))

    def _finish(self):
        self._stop_proxy()
        log.info("stopped")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        # a job that ignored the stop request still holds a pool thread: do not wait for it
        os._exit(self.exit_status)

    def _stop_proxy(self):
        if self.proxy is not None:
            self.proxy.stop()


def _bind(port: int) -> list:
    try:
        return bind_sockets(port, address="127.0.0.1")
    except OSError as exc:
        raise UsageError(_port_message(port, "the scheduler, PORT+1", exc)) from None


def _check_free(port: int, address: str, what: str) -> None:
    try:
        for sock in bind_sockets(port, address=address):
            sock.close()
    except OSError as exc:
        raise UsageError(_port_message(port, what, exc)) from None


def _port_message(port: int, what: str, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} ({what}) is already in use"
    return f"cannot listen on port {port} ({what}): {exc.strerror}"


def _claim_datastore(settings: Settings):
    """SQLite: one instance per database file.  Celery: the broker must answer.  (Exit 2.)"""
    lock = None
    if settings.database.dbms == "sqlite":
        from bots_scheduler.cluster.single import SingleInstanceLock
        lock = SingleInstanceLock(settings.database.sqlite_path)
        lock.acquire()
    if settings.executor == "celery":
        from bots_scheduler.executors.celery_app import check_broker
        check_broker(settings.broker)
    return lock


def _proxy_process(settings: Settings, secret: str):
    try:
        from bots_scheduler.proxy.process import ProxyProcess
    except ImportError:
        raise UsageError("the authentication proxy is not available in this installation; "
                         "run with --local") from None
    return ProxyProcess(settings, secret=secret)
