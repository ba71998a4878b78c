"""Shared fixtures: real server processes on free ports, and fresh databases on the real
PostgreSQL and MariaDB servers of this machine."""
from __future__ import annotations

import uuid

import pytest

from tests.support.databases import DATABASES, fresh_database
from tests.support.server import ServerProcess, free_port_pair  # noqa: F401


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty folder to run bots-scheduler in (conf/, data/, jobs/ go here)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(params=DATABASES)
def dbms(request):
    """Each test using it runs on sqlite, postgresql and mysql."""
    return request.param


@pytest.fixture
def database(dbms, workdir):
    """A fresh database of the given DBMS with its profile written to conf/db.ini.
    Yields the extra command-line arguments that select it."""
    with fresh_database(dbms, workdir) as args:
        yield args


@pytest.fixture
def server(workdir):
    """Factory: ``server(*args, env={...})`` starts ``bots-scheduler run --local`` (unless
    ``local=False``) as a real process in ``workdir`` and returns a ServerProcess."""
    started: list[ServerProcess] = []

    def start(*args, env=None, local=True, wait=True, cwd=None):
        proc = ServerProcess(cwd or workdir, list(args), env=env, local=local)
        started.append(proc)
        if wait:
            proc.start()
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:10]
