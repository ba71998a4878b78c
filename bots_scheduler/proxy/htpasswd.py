"""htpasswd files: reading, checking passwords, writing users (CONTRACT §5).

The file is read and written with libpass (the maintained fork of passlib, same API), restricted
to the formats Apache's ``htpasswd`` tool makes on Linux: bcrypt (``-B``), apr1-MD5 (``-m``, its
default), SHA1 (``-s``) and the SHA-2 crypt formats (``-2``, ``-5``). Plaintext and 8-character DES
crypt entries are refused. bcrypt entries are made and checked with the ``bcrypt`` library itself,
on the first 72 bytes of the password as Apache does (bcrypt >= 5 refuses longer input instead of
ignoring the rest). New entries are always bcrypt; apr1 and SHA1 entries still log in but are
reported as weak (a fast hash: a stolen file is cheap to crack).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import bcrypt
from passlib.apache import HtpasswdFile
from passlib.context import CryptContext

from bots_scheduler.errors import InvalidInput, UsageError
from bots_scheduler.private_files import write_private

log = logging.getLogger(__name__)

ACCEPTED_SCHEMES = ["bcrypt", "apr_md5_crypt", "ldap_sha1", "sha256_crypt", "sha512_crypt"]
WEAK_SCHEMES = frozenset({"apr_md5_crypt", "ldap_sha1"})
NEW_HASH_ROUNDS = 12
BCRYPT_MAX_BYTES = 72
WEAK_WARNING = ("htpasswd: the entry of %r is apr1-MD5 or SHA1, fast to crack from a copy of "
                "the file; set it again as bcrypt (`bots-scheduler passwd USER` or `htpasswd -B`)")
FORBIDDEN_IN_USER = set(":\r\n\t\x00")

# Recognises every accepted format and verifies the non-bcrypt ones.
hash_context = CryptContext(schemes=ACCEPTED_SCHEMES, default="bcrypt")


def scheme_of(stored: str | bytes | None) -> str | None:
    """The accepted scheme of a stored hash, or None (unknown or refused format)."""
    if not stored:
        return None
    return hash_context.identify(stored, required=False)


def hash_password(password: str) -> str:
    """A new bcrypt entry ($2y$, as ``htpasswd -B`` writes it)."""
    digest = bcrypt.hashpw(_bcrypt_input(password), bcrypt.gensalt(NEW_HASH_ROUNDS))
    return "$2y$" + digest.decode("ascii")[4:]


def verify(password: str, stored: str | bytes | None) -> bool:
    """Whether ``password`` matches the stored hash; False for refused or malformed entries."""
    scheme = scheme_of(stored)
    try:
        if scheme == "bcrypt":
            stored_bytes = stored if isinstance(stored, bytes) else stored.encode("ascii")
            return bcrypt.checkpw(_bcrypt_input(password), stored_bytes)
        if scheme is not None:
            return hash_context.handler(scheme).verify(password, stored)
    except (ValueError, TypeError, UnicodeEncodeError):  # malformed hash in a known format
        return False
    return False


def _bcrypt_input(password: str) -> bytes:
    return password.encode("utf-8", "surrogatepass")[:BCRYPT_MAX_BYTES]


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
            if scheme_of(entries.get_hash(user)) is None]


def weak_users(entries: HtpasswdFile) -> list[str]:
    """Users whose entry is apr1-MD5 or SHA1: accepted, but fast to crack from a stolen file."""
    return [user for user in entries.users() if scheme_of(entries.get_hash(user)) in WEAK_SCHEMES]


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
    existed = entries.set_hash(user, hash_password(password))
    write_private(path, entries.to_string(), mode)
    return existed


def create_with_user(path: Path, user: str, password: str) -> None:
    """Create a new file holding one user, mode 0600; fails if the file exists."""
    entries = HtpasswdFile(context=hash_context)
    entries.set_hash(user, hash_password(password))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(entries.to_string())
