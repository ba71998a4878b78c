"""Fixtures of the alert tests: local json:// receivers and alert INI files."""
from __future__ import annotations

import socket

import pytest

from tests.alerts.receiver import Receiver


@pytest.fixture
def receiver():
    """Factory: ``receiver(status=200, hang=0)`` -> a started Receiver."""
    started: list[Receiver] = []

    def start(status: int = 200, hang: float = 0.0) -> Receiver:
        server = Receiver(status, hang).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def refused_url():
    """A json:// URL whose port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"json://127.0.0.1:{port}/hook"


@pytest.fixture
def alerts_ini(tmp_path):
    """Factory: ``alerts_ini({"name": {"urls": ..., "events": ...}})`` -> path of the file."""
    def write(profiles: dict, name: str = "alerts.ini"):
        text = ""
        for section, fields in profiles.items():
            text += f"[{section}]\n" + "".join(f"{key} = {value}\n"
                                               for key, value in fields.items()) + "\n"
        path = tmp_path / name
        path.write_text(text)
        return path
    return write
