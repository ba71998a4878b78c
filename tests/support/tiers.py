"""The test tiers (README "Tests"), given to every test by tests/conftest.py.

- ``browser``: drives headless Chromium (the ``browser`` fixture of tests/ui);
- ``integration``: starts or talks to real processes and servers: a ``bots-scheduler`` process,
  the mitmproxy process, an SMTP server, Celery workers, PostgreSQL, MariaDB, Redis, RabbitMQ;
- ``unit``: everything else, in this process, in a temporary folder (SQLite included).

A test gets its tier from the fixtures it uses (so a new test that asks for ``server`` is an
integration test without saying so), or from an explicit marker on the test or its module, for
tests that start processes themselves. While a unit test runs, an audit hook refuses what
would make it depend on a server: a connection to a service port, or starting a
``bots-scheduler`` or mitmproxy process; the error says to mark the test ``integration``.
"""
from __future__ import annotations

import sys
import threading

from tests.support.services import SERVICE_PORTS

TIERS = ("unit", "integration", "browser")
BROWSER_FIXTURES = frozenset({"browser"})
INTEGRATION_FIXTURES = frozenset({
    "server",                                  # a real `bots-scheduler run` process
    "worker", "celery_setup",                  # `bots-scheduler worker` processes
    "postgresql", "mysql", "redis_broker", "rabbitmq_broker",
    "smtp_server",                             # aiosmtpd
    "start_proxy", "proxied",                  # the mitmproxy process
})
SERVER_DBMS = frozenset({"postgresql", "mysql"})   # values of the `dbms` parameter


def tier_of(item) -> str:
    for marker in item.iter_markers():         # the closest explicit marker wins
        if marker.name in TIERS:
            return marker.name
    names = set(item.fixturenames)
    if names & BROWSER_FIXTURES:
        return "browser"
    if names & INTEGRATION_FIXTURES:
        return "integration"
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("dbms") in SERVER_DBMS:
        return "integration"
    return "unit"


class UnitGuard:
    """Makes a unit test that reaches for a server fail, naming what it reached for."""

    def __init__(self):
        self.active_test: str | None = None
        sys.addaudithook(self._audit)

    def _refuse(self, what: str) -> None:
        raise RuntimeError(f"the unit test {self.active_test} {what}: mark it "
                           f"@pytest.mark.integration (tests/support/tiers.py)")

    def _audit(self, event: str, args) -> None:
        if self.active_test is None or threading.current_thread() is not threading.main_thread():
            return
        if event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and len(address) >= 2 and address[1] in SERVICE_PORTS:
                self._refuse(f"connects to the service port {address[1]}")
        elif event == "subprocess.Popen":
            argv = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
            words = [str(word) for word in argv]
            text = " ".join(words)
            if ("-m" in words and "bots_scheduler" in words) or "bots-scheduler" in text \
                    or "mitmdump" in text:
                self._refuse(f"starts a process: {text[:120]}")
