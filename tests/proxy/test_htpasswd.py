"""htpasswd files: validation of --htpasswd, and writing users (the passwd subcommand)."""
from __future__ import annotations

import stat
import subprocess

import pytest

from bots_scheduler.proxy import htpasswd
from bots_scheduler.errors import UsageError
from tests.proxy.tools import htpasswd_tool


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def apache_accepts(path, user, password) -> bool:
    """Apache's own tool verifies the entry (htpasswd -v)."""
    result = subprocess.run(["htpasswd", "-vb", str(path), user, password], capture_output=True)
    return result.returncode == 0


def test_a_file_made_by_apaches_tool_is_a_valid_htpasswd(tmp_path):
    path = tmp_path / "users"
    htpasswd_tool(path, "alice", "pw")
    assert htpasswd.validate_htpasswd(path) == path


@pytest.mark.parametrize("content,expected", [
    (None, "does not exist"),
    (b"", "has no users"),
    (b"alice\n", "not an htpasswd file"),
    (b"alice:plaintext\n", "no entry"),
])
def test_unusable_htpasswd_files_are_refused_in_one_line(tmp_path, content, expected):
    path = tmp_path / "users"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError) as info:
        htpasswd.validate_htpasswd(path)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_set_password_creates_a_private_file_that_apache_accepts(tmp_path):
    path = tmp_path / "users"
    assert htpasswd.set_password(path, "alice", "pw one") is False
    assert mode(path) == 0o600
    assert path.read_text().startswith("alice:$2y$12$")
    assert apache_accepts(path, "alice", "pw one")


def test_set_password_changes_one_user_and_keeps_the_others_and_the_mode(tmp_path):
    path = tmp_path / "users"
    htpasswd_tool(path, "alice", "a", "apr1")
    htpasswd_tool(path, "bob", "b", "sha1")
    path.chmod(0o640)
    assert htpasswd.set_password(path, "alice", "new") is True
    assert mode(path) == 0o640
    assert apache_accepts(path, "alice", "new")
    assert apache_accepts(path, "bob", "b")


@pytest.mark.parametrize("user", ["", "a:b", "tab\tname", "x" * 256])
def test_user_names_htpasswd_cannot_hold_are_refused(tmp_path, user):
    with pytest.raises(UsageError):
        htpasswd.set_password(tmp_path / "users", user, "pw")


def test_empty_passwords_and_line_breaks_are_refused(tmp_path):
    for password in ("", "two\nlines"):
        with pytest.raises(UsageError):
            htpasswd.set_password(tmp_path / "users", "alice", password)
    assert not (tmp_path / "users").exists()


def test_create_with_user_never_overwrites(tmp_path):
    path = tmp_path / "users"
    htpasswd.create_with_user(path, "administrator", "pw")
    assert mode(path) == 0o600
    with pytest.raises(FileExistsError):
        htpasswd.create_with_user(path, "administrator", "other")
    assert apache_accepts(path, "administrator", "pw")


def test_passwords_longer_than_bcrypts_72_bytes_work_as_with_apaches_tool(tmp_path):
    """bcrypt >= 5 refuses input above 72 bytes; Apache's tool uses the first 72: so do we."""
    long_password = "é" * 40 + "tail"           # 84 bytes in UTF-8
    ours = tmp_path / "ours"
    htpasswd.set_password(ours, "alice", long_password)
    assert apache_accepts(ours, "alice", long_password)
    apaches = tmp_path / "apaches"
    htpasswd_tool(apaches, "alice", long_password)
    stored = htpasswd.load(apaches).get_hash("alice")
    assert htpasswd.verify(long_password, stored)
    assert not htpasswd.verify("é" * 35, stored)


def test_new_entries_are_bcrypt_and_apr1_sha1_entries_are_reported_weak(tmp_path):
    path = tmp_path / "users"
    htpasswd_tool(path, "apr", "pw", "apr1")
    htpasswd_tool(path, "sha", "pw", "sha1")
    htpasswd_tool(path, "strong", "pw", "bcrypt")
    htpasswd.set_password(path, "new", "pw")
    entries = htpasswd.load(path)
    assert entries.get_hash("new").startswith(b"$2y$12$")
    assert sorted(htpasswd.weak_users(entries)) == ["apr", "sha"]
    assert all(htpasswd.verify("pw", entries.get_hash(user))
               for user in ("apr", "sha", "strong", "new"))
