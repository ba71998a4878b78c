"""Checking credentials against the htpasswd file: formats, the cache, reloading, failing closed."""
from __future__ import annotations

import asyncio
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from bots_scheduler.proxy.credentials import Authenticator
from tests.proxy.tools import htpasswd_tool


class CountingExecutor(ThreadPoolExecutor):
    """A real thread pool that counts the password verifications handed to it."""

    def __init__(self):
        super().__init__(2)
        self.count = 0

    def submit(self, *args, **kwargs):
        self.count += 1
        return super().submit(*args, **kwargs)


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def executor():
    pool = CountingExecutor()
    yield pool
    pool.shutdown()


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "htpasswd"
    htpasswd_tool(path, "alice", "secret", "bcrypt")
    htpasswd_tool(path, "bob", "apr", "apr1")
    htpasswd_tool(path, "carol", "sha", "sha1")
    htpasswd_tool(path, "dave", "sha2", "sha256")
    htpasswd_tool(path, "erin", "sha5", "sha512")
    return path


def check(auth, user, password):
    return asyncio.run(auth.check(user, password))


@pytest.mark.parametrize("user,password", [("alice", "secret"), ("bob", "apr"),
                                           ("carol", "sha"), ("dave", "sha2"), ("erin", "sha5")])
def test_entries_of_each_format_apaches_tool_makes_verify(users, executor, user, password):
    auth = Authenticator(users, executor)
    assert check(auth, user, password) is True
    assert check(auth, user, password + "x") is False


def test_an_unknown_user_is_refused_after_the_same_work_as_a_known_one(users, executor):
    auth = Authenticator(users, executor)
    assert check(auth, "mallory", "secret") is False
    assert executor.count == 1


def test_verified_credentials_are_remembered_for_a_while(users, executor):
    clock = Clock()
    auth = Authenticator(users, executor, cache_seconds=60, clock=clock)
    for _ in range(5):
        assert check(auth, "alice", "secret")
    assert executor.count == 1
    clock.now += 61
    assert check(auth, "alice", "secret")
    assert executor.count == 2


def test_wrong_passwords_are_never_remembered(users, executor):
    auth = Authenticator(users, executor)
    check(auth, "alice", "wrong")
    check(auth, "alice", "wrong")
    assert executor.count == 2


def test_identical_credentials_arriving_together_share_one_verification(users, executor):
    auth = Authenticator(users, executor)

    async def together():
        return await asyncio.gather(*(auth.check("alice", "secret") for _ in range(20)))

    assert asyncio.run(together()) == [True] * 20
    assert executor.count == 1


def test_a_changed_file_is_reloaded_and_forgets_remembered_credentials(users, executor):
    auth = Authenticator(users, executor)
    assert check(auth, "alice", "secret")
    htpasswd_tool(users, "alice", "changed", "bcrypt")
    assert check(auth, "alice", "secret") is False
    assert check(auth, "alice", "changed") is True


def test_a_deleted_file_lets_nobody_in(users, executor):
    auth = Authenticator(users, executor)
    assert check(auth, "alice", "secret")
    os.unlink(users)
    assert check(auth, "alice", "secret") is False


def test_a_malformed_file_lets_nobody_in_until_it_is_fixed(users, executor):
    auth = Authenticator(users, executor)
    good = users.read_bytes()
    users.write_bytes(good + b"this line has no colon\n")
    assert check(auth, "alice", "secret") is False
    users.write_bytes(good)
    os.utime(users, ns=(1, 1))   # a different signature even within one clock tick
    assert check(auth, "alice", "secret") is True


def test_plaintext_and_des_entries_never_log_in(tmp_path, executor):
    path = tmp_path / "htpasswd"
    path.write_text("plain:password\n")
    subprocess.run(["htpasswd", "-b", "-d", str(path), "des", "password"], check=True,
                   capture_output=True)
    auth = Authenticator(path, executor)
    assert check(auth, "plain", "password") is False
    assert check(auth, "des", "password") is False
