"""Fixtures of the proxy tests: a real mitmdump (ProxyProcess) in front of a tiny Tornado
upstream on PORT+1, with users made by Apache's htpasswd tool."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy

from bots_scheduler.proxy.process import ProxyProcess
from bots_scheduler.settings import DatabaseSettings, Settings
from tests.proxy.tools import htpasswd_tool
from tests.proxy.upstream import Upstream
from tests.support.server import free_port_pair

SECRET = "test-secret-of-this-start"
USERS = {"bcrypt": ("alice", "bcrypt pass"), "apr1": ("bob", "apr1 pass"),
         "sha1": ("carol", "sha1 pass")}


def make_settings(port: int, **overrides) -> Settings:
    url = sqlalchemy.URL.create("sqlite", database="unused.db")
    values = dict(database=DatabaseSettings("sqlite", "sqlite", url), data_dir=Path("data"),
                  port=port, debug=True)
    values.update(overrides)
    return Settings(**values)


@dataclass
class Running:
    proxy: ProxyProcess
    upstream: Upstream
    port: int
    htpasswd: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def users_file(folder: Path) -> Path:
    path = folder / "users.htpasswd"
    for fmt, (user, password) in USERS.items():
        htpasswd_tool(path, user, password, fmt)
    return path


@pytest.fixture
def start_proxy():
    """Factory: ``start_proxy(htpasswd_path, tune=None, **settings)`` -> Running, stopped at
    teardown; ``tune(proxy)`` may set the ProxyProcess's time limits before it starts."""
    started = []

    def start(htpasswd: Path | None, tune=None, **overrides) -> Running:
        port = free_port_pair()
        upstream = Upstream(port + 1).start()
        proxy = ProxyProcess(make_settings(port, htpasswd=htpasswd, **overrides), SECRET)
        if tune is not None:
            tune(proxy)
        started.append((proxy, upstream))
        proxy.prepare()
        proxy.start()
        return Running(proxy, upstream, port, proxy.htpasswd_path)

    yield start
    for proxy, upstream in started:
        proxy.stop()
        upstream.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One proxy for the tests that never fail a login (failures would block 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("shared-proxy")
    path = users_file(folder)
    port = free_port_pair()
    upstream = Upstream(port + 1).start()
    proxy = ProxyProcess(make_settings(port, htpasswd=path), SECRET)
    proxy.start()
    yield Running(proxy, upstream, port, path)
    proxy.stop()
    upstream.stop()


@pytest.fixture
def fresh(start_proxy, tmp_path):
    """A proxy of its own, for tests that fail logins or change the users."""
    return start_proxy(users_file(tmp_path))
