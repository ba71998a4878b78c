"""htpasswd files: reading, checking passwords, writing users (CONTRACT §5).

Hashes are read and verified with passlib, restricted to the formats Apache's ``htpasswd`` tool
makes on Linux: bcrypt (``-B``), apr1-MD5 (``-m``, its default), SHA1 (``-s``) and the SHA-2
crypt formats (``-2``, ``-5``). Plaintext and 8-character DES crypt entries are refused.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from passlib.apache import HtpasswdFile
from passlib.context import CryptContext

from bots_scheduler.errors import InvalidInput, UsageError

log = logging.getLogger(__name__)

ACCEPTED_SCHEMES = ["bcrypt", "apr_md5_crypt", "ldap_sha1", "sha256_crypt", "sha512_crypt"]
NEW_HASH_SCHEME = "bcrypt"
NEW_HASH_ROUNDS = 12
FORBIDDEN_IN_USER = set(":\r\n\t\x00")

hash_context = CryptContext(schemes=ACCEPTED_SCHEMES, default=NEW_HASH_SCHEME,
                            bcrypt__rounds=NEW_HASH_ROUNDS, bcrypt__ident="2y")


class HtpasswdError(InvalidInput):
    """The file cannot be used: missing, unreadable or malformed."""


def load(path: Path) -> HtpasswdFile:
    try:
        return HtpasswdFile(str(path), context=hash_context)
    except OSError as exc:
        raise HtpasswdError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise HtpasswdError(f"{path} is not an htpasswd file: {exc}") from None


def unsupported_users(entries: HtpasswdFile) -> list[str]:
    """Users whose hash is in a format we refuse (they can never log in)."""
    return [user for user in entries.users()
            if not hash_context.identify(entries.get_hash(user), required=False)]


def validate_htpasswd(path) -> Path:
    """For --htpasswd: an existing, readable htpasswd file with at least one usable user."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--htpasswd: {path} does not exist or is not a file")
    try:
        entries = load(path)
    except HtpasswdError as exc:
        raise UsageError(f"--htpasswd: {exc}") from None
    users = entries.users()
    if not users:
        raise UsageError(f"--htpasswd: {path} has no users (add one with "
                         f"`bots-scheduler passwd --htpasswd {path} USER`)")
    if len(unsupported_users(entries)) == len(users):
        raise UsageError(f"--htpasswd: no entry of {path} is in a supported format "
                         f"(bcrypt, apr1-MD5 or SHA1; `htpasswd -B` makes bcrypt)")
    return path


def check_user_name(user: str) -> str:
    if not user or len(user) > 255 or FORBIDDEN_IN_USER & set(user):
        raise UsageError("user name must be 1-255 characters without ':', tabs or line breaks")
    return user


def set_password(path: Path, user: str, password: str) -> bool:
    """Add or change ``user`` (bcrypt). Returns True when the user existed.

    The file is replaced atomically and keeps its mode; a new file gets mode 0600.
    """
    check_user_name(user)
    if not password:
        raise UsageError("the password must not be empty")
    if "\n" in password or "\r" in password:
        raise UsageError("the password must not contain line breaks")
    path = Path(path)
    if path.exists():
        try:
            entries = load(path)
        except HtpasswdError as exc:
            raise UsageError(str(exc)) from None
        mode = path.stat().st_mode & 0o7777
    else:
        entries = HtpasswdFile(context=hash_context)
        mode = 0o600
    existed = entries.set_password(user, password)
    write_atomically(path, entries.to_string(), mode)
    return existed


def create_with_user(path: Path, user: str, password: str) -> None:
    """Create a new file holding one user, mode 0600; fails if the file exists."""
    entries = HtpasswdFile(context=hash_context)
    entries.set_password(user, password)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(entries.to_string())


def write_atomically(path: Path, content: bytes, mode: int) -> None:
    folder = path.resolve().parent
    fd, temp_name = tempfile.mkstemp(prefix=".htpasswd-", dir=folder)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
