"""The test tiers themselves (tests/support/tiers.py, tests/support/services.py): a missing
service skips an integration test with its reason, or fails it in CI; a unit test that reaches
for a server is stopped."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.support import services

pytestmark = pytest.mark.unit
pytest_plugins = ["pytester"]


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]     # nothing listens there once the socket is closed


@pytest.fixture
def absent_redis(monkeypatch, closed_port):
    monkeypatch.setitem(services.SERVICES, "redis", ("127.0.0.1", closed_port))


def test_a_missing_service_skips_the_test_and_says_which(absent_redis, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^Redis is not running on 127\.0\.0\.1:"):
        services.require("redis")


def test_in_ci_a_missing_service_fails_the_test(absent_redis, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"no test may skip"):
        services.require("redis")


def test_a_unit_test_that_starts_a_bots_scheduler_process_is_stopped():
    # this test is a unit test: the guard of tests/conftest.py watches it
    with pytest.raises(RuntimeError, match=r"test_tiers\.py::test_a_unit_test_that_starts_a_bots_"
                                           r"scheduler_process_is_stopped starts a process: .*"
                                           r"-m bots_scheduler --version: mark it"):
        subprocess.run([sys.executable, "-m", "bots_scheduler", "--version"], check=False)
    # other programs are fine
    assert subprocess.run([sys.executable, "-c", "pass"], check=False).returncode == 0


def test_a_unit_test_that_connects_to_a_service_port_is_stopped():
    with pytest.raises(RuntimeError, match=r"connects to the service port 5432: mark it"):
        socket.create_connection(("127.0.0.1", 5432), timeout=1)


SKIPPING = """
import pytest

def test_needs_something():
    pytest.skip("something is not running")
"""


def test_outside_ci_a_skip_is_a_skip(pytester, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(SKIPPING)
    pytester.runpytest_inprocess("-p", "tests.support.noskip").assert_outcomes(skipped=1)


def test_in_ci_any_skip_fails_with_its_reason(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(SKIPPING)
    result = pytester.runpytest_inprocess("-p", "tests.support.noskip")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*skipped in CI, where no test may skip*something is not running*"])
