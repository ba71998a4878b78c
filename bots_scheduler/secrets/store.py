"""The secrets table and its queries; values are encrypted with AES-256-GCM (``cryptography``).

Each value is sealed with a fresh 96-bit nonce and the secret's name as associated data, so a
ciphertext copied onto another name's row does not decrypt.  Stored text: ``v1:`` + URL-safe
base64 of nonce + ciphertext + tag.  The table is named after the jobs table, like the cluster's
(``scheduler_jobs_secrets`` by default), and owned by this module alone.
"""
from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, MetaData, String, Table, Text, delete, insert, inspect, select, \
    update

from bots_scheduler.datastore.tables import UtcDateTime
from bots_scheduler.errors import Conflict, InvalidInput, NotFound
from bots_scheduler.secrets.keys import KeySource, KeyUnavailable

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_VALUE = 64 * 1024          # characters; API keys are far shorter
PREFIX_LENGTH = 48             # identifiers stay within PostgreSQL's 63 characters
FORMAT = "v1:"


class SecretError(InvalidInput):
    """A bad secret name or value (HTTP 400, or one line and exit 2)."""


class SecretNotFound(NotFound):
    """No secret of that name (HTTP 404)."""


class SecretExists(Conflict):
    """POST of a name that is taken (HTTP 409)."""


class SecretInUse(Conflict):
    """DELETE of a secret that jobs reference, without force (HTTP 409)."""


def check_name(name) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise SecretError(f"a secret name is 1-64 letters, digits, '_', '.' or '-', "
                          f"not {name!r}")
    return name


def check_value(value) -> str:
    if not isinstance(value, str) or value == "":
        raise SecretError("value must be a non-empty string")
    if len(value) > MAX_VALUE:
        raise SecretError(f"value is longer than {MAX_VALUE} characters")
    if "\x00" in value:
        raise SecretError("value contains a NUL character")
    return value


def make_secrets_table(jobs_table: str, metadata: MetaData | None = None) -> Table:
    return Table(
        f"{jobs_table[:PREFIX_LENGTH]}_secrets", metadata or MetaData(),
        Column("name", String(64), primary_key=True),
        Column("value", Text, nullable=False),               # FORMAT + sealed value
        Column("created_time", UtcDateTime, nullable=False),
        Column("updated_time", UtcDateTime, nullable=False),
        Column("updated_by", String(255), nullable=False, default=""),
    )


@dataclass(frozen=True)
class SecretInfo:
    name: str
    created_time: datetime
    updated_time: datetime
    updated_by: str


class SecretStore:
    def __init__(self, engine, jobs_table: str, keys: KeySource | None = None):
        self.engine = engine
        self.table = make_secrets_table(jobs_table)
        self.keys = keys or KeySource()
        self._lock = threading.Lock()

    # -- life cycle --------------------------------------------------------------------------
    def create_table(self) -> None:
        self.table.metadata.create_all(self.engine)

    def check_key(self) -> None:
        """At start: with stored secrets, the key must be there and open them (KeyUnavailable
        otherwise).  Reads only; the table need not exist yet."""
        if not inspect(self.engine).has_table(self.table.name):
            return
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table.c.name, self.table.c.value)
                               .order_by(self.table.c.name).limit(1)).first()
        if row is None:
            return
        try:
            self._open(row.name, row.value)
        except KeyUnavailable as exc:
            raise KeyUnavailable(f"{exc}; {self._count()} secret(s) are stored") from None

    def _count(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(self.table.c.name)).all())

    # -- sealing -----------------------------------------------------------------------------
    def _aead(self, create: bool = False) -> AESGCM:
        return AESGCM(self.keys.key(create=create))

    def _seal(self, name: str, value: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead(create=True).encrypt(nonce, value.encode("utf-8"),
                                                 name.encode("utf-8"))
        return FORMAT + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def _open(self, name: str, stored: str) -> str:
        aead = self._aead()
        try:
            if not stored.startswith(FORMAT):
                raise ValueError("unknown format")
            raw = base64.urlsafe_b64decode(stored[len(FORMAT):].encode("ascii"))
            return aead.decrypt(raw[:12], raw[12:], name.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
            raise KeyUnavailable(f"secret {name!r} cannot be decrypted with "
                                 f"{self.keys.describe()}: wrong key") from None

    # -- queries -----------------------------------------------------------------------------
    def list(self) -> list[SecretInfo]:
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.name, t.c.created_time, t.c.updated_time,
                                       t.c.updated_by).order_by(t.c.name)).all()
        return [SecretInfo(*row) for row in rows]

    def names(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(self.table.c.name)).scalars())

    def exists(self, name: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(self.table.c.name)
                                .where(self.table.c.name == name)).first() is not None

    def values(self, names) -> dict[str, str]:
        """Decrypted values of ``names`` that exist (the run-time resolution)."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.name, t.c.value).where(t.c.name.in_(wanted))).all()
        return {row.name: self._open(row.name, row.value) for row in rows}

    def value(self, name: str) -> str:
        found = self.values([name])
        if name not in found:
            raise SecretNotFound(f"no secret named {name!r}")
        return found[name]

    # -- changes -----------------------------------------------------------------------------
    def create(self, name: str, value: str, user: str = "") -> None:
        check_name(name)
        sealed = self._seal(name, check_value(value))
        now = _utcnow()
        with self._lock, self.engine.begin() as conn:
            if conn.execute(select(self.table.c.name)
                            .where(self.table.c.name == name)).first() is not None:
                raise SecretExists(f"a secret named {name!r} exists; replace its value with "
                                   f"PUT /api/v1/secrets/{name}")
            conn.execute(insert(self.table).values(name=name, value=sealed, created_time=now,
                                                   updated_time=now, updated_by=user[:255]))

    def replace(self, name: str, value: str, user: str = "") -> None:
        check_name(name)
        sealed = self._seal(name, check_value(value))
        with self.engine.begin() as conn:
            done = conn.execute(update(self.table).where(self.table.c.name == name).values(
                value=sealed, updated_time=_utcnow(), updated_by=user[:255])).rowcount
        if not done:
            raise SecretNotFound(f"no secret named {name!r}")

    def set(self, name: str, value: str, user: str = "") -> bool:
        """Create or replace; True when it was created."""
        try:
            self.create(name, value, user)
            return True
        except SecretExists:
            self.replace(name, value, user)
            return False

    def delete(self, name: str) -> None:
        check_name(name)
        with self.engine.begin() as conn:
            done = conn.execute(delete(self.table).where(self.table.c.name == name)).rowcount
        if not done:
            raise SecretNotFound(f"no secret named {name!r}")


def _utcnow() -> datetime:
    from bots_scheduler.datastore.store import utcnow
    return utcnow()
