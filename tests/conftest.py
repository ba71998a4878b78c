"""Shared fixtures: real server processes on free ports, and fresh databases on the real
PostgreSQL and MariaDB servers of this machine; and the test tiers (tests/support/tiers.py):
every test is marked unit, integration or browser here."""
from __future__ import annotations

import uuid

import pytest

from tests.support.databases import DATABASES, fresh_database
from tests.support.server import ServerProcess, free_port_pair  # noqa: F401
from tests.support.noskip import pytest_runtest_makereport  # noqa: F401  (CI: no skips)
from tests.support.tiers import UnitGuard, tier_of

_guard = UnitGuard()
_TIER = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)       # before `-m` selects on the markers given here
def pytest_collection_modifyitems(items):
    for item in items:
        tier = tier_of(item)
        item.stash[_TIER] = tier
        if item.get_closest_marker(tier) is None:
            item.add_marker(tier)


def _guarded(item):
    # set-up and call only: the teardown of the last test of a module also finalises the
    # module's fixtures, which may belong to its integration tests
    _guard.active_test = item.nodeid if item.stash.get(_TIER, None) == "unit" else None
    try:
        return (yield)
    finally:
        _guard.active_test = None


pytest_runtest_setup = pytest.hookimpl(wrapper=True)(_guarded)
pytest_runtest_call = pytest.hookimpl(wrapper=True)(_guarded)


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
