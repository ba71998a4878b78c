"""Fixtures of the notification tests: real aiosmtpd servers and SMTP INI files."""
from __future__ import annotations

import pytest

from tests.notifications.smtp_servers import SmtpServer, ini_section, make_self_signed, \
    profile_fields


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    return make_self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_server(tls_files):
    """Factory: ``smtp_server("starttls", credentials=("u", "p"))`` -> a started SmtpServer."""
    started: list[SmtpServer] = []

    def start(mode="unencrypted", credentials=None, hold=None, busy=0) -> SmtpServer:
        server = SmtpServer(mode, tls_files, credentials, hold, busy).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def smtp_ini(tmp_path, tls_files):
    """Factory: ``smtp_ini({"name": server_or_fields, ...})`` writes an INI file, returns its path.

    A server gives the fields that reach it; a dict is written as it is (``None`` values omitted).
    """
    def write(profiles: dict, name: str = "smtp.ini", **overrides):
        text = ""
        for section, spec in profiles.items():
            fields = spec if isinstance(spec, dict) else profile_fields(spec, tls_files,
                                                                        **overrides)
            text += ini_section(section, fields)
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
