"""The machine's database and broker servers that integration tests use, and what happens when
one is not running: the test is skipped with the reason, except in CI (CI=true, as .ci/run sets
up), where every service must be there and a missing one fails the test."""
from __future__ import annotations

import functools
import os
import socket

import pytest

SERVICES = {
    "postgresql": ("127.0.0.1", 5432),
    "mysql": ("127.0.0.1", 3306),       # MariaDB
    "redis": ("127.0.0.1", 6379),
    "rabbitmq": ("127.0.0.1", 5672),
}
SERVICE_PORTS = {port for _host, port in SERVICES.values()}
NAMES = {"postgresql": "PostgreSQL", "mysql": "MariaDB", "redis": "Redis",
         "rabbitmq": "RabbitMQ"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@functools.cache
def _reachable(host: str, port: int) -> bool:
    # cached for the session: a service that is up stays up for the tests that need it (the
    # outage tests cut a forwarder in front of it, never the server itself)
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require(service: str) -> None:
    """Skip (fail in CI) the current test unless ``service`` accepts connections."""
    host, port = SERVICES[service]
    if _reachable(host, port):
        return
    what = f"{NAMES[service]} is not running on {host}:{port}"
    if in_ci():
        pytest.fail(f"{what}; in CI (CI=true) no test may skip: .ci/run starts it",
                    pytrace=False)
    pytest.skip(f"{what} (start it to run this test; `pytest -m unit` needs no server)")
