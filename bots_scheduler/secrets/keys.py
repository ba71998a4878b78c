"""The secret store's key: 32 random bytes, URL-safe base64 in ``conf/secret.key`` (mode 0600,
created at the first secret stored) or in the environment variable BOTS_SCHEDULER_SECRET_KEY
(which wins, so that workers and containers need no file).

The key never enters the database: whoever reads the database (a dump, a backup, the SQLite
file with its WAL) without the key reads no value.
"""
from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from bots_scheduler.errors import Unavailable

ENV_VAR = "BOTS_SCHEDULER_SECRET_KEY"
DEFAULT_KEY_FILE = Path("conf/secret.key")
KEY_BYTES = 32


class KeyUnavailable(Unavailable):
    """No usable key: one line for the user (start: exit 2; API: 503)."""
    service = "secret store"


def decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise KeyUnavailable(f"{where} is not a base64 key (make one with: python -c "
                             f"\"import os,base64;print(base64.urlsafe_b64encode(os.urandom(32))"
                             f".decode())\")") from None
    if len(key) != KEY_BYTES:
        raise KeyUnavailable(f"{where} must hold {KEY_BYTES} bytes (base64), not {len(key)}")
    return key


def new_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


class KeySource:
    """Where this process takes the key from; reads it once, creates the file on demand."""

    def __init__(self, path: Path | None = None, environ=None):
        self.path = Path(path) if path is not None else DEFAULT_KEY_FILE
        self.environ = os.environ if environ is None else environ
        self._key: bytes | None = None

    def describe(self) -> str:
        if self.environ.get(ENV_VAR, "").strip():
            return f"the environment variable {ENV_VAR}"
        return f"the key file {self.path}"

    def key(self, create: bool = False) -> bytes:
        """The key; with ``create``, a missing key file is made (mode 0600)."""
        if self._key is not None:
            return self._key
        text = self.environ.get(ENV_VAR, "").strip()
        if text:
            self._key = decode_key(text, f"the environment variable {ENV_VAR}")
            return self._key
        if not self.path.exists():
            if not create:
                raise KeyUnavailable(f"the secret key is missing: neither {self.path} nor "
                                     f"{ENV_VAR} is there (copy the key of the server that "
                                     f"stored the secrets; see docs/security.md)")
            self._write_new()
        try:
            text = self.path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyUnavailable(f"cannot read the secret key file {self.path}: {exc}") from None
        self._key = decode_key(text, f"the secret key file {self.path}")
        return self._key

    def _write_new(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes creating it at once cannot both write a key
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        except OSError as exc:
            raise KeyUnavailable(f"cannot create the secret key file {self.path}: "
                                 f"{exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(new_key_text() + "\n")
        os.chmod(self.path, 0o600)
