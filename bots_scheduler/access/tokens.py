"""API tokens: ``bots-scheduler token create|list|revoke`` and their check at each request.

A token is 256 random bits, URL-safe base64 with a ``bst_`` prefix.  Only its SHA-256 is
stored: the tokens table of a leaked database opens nothing (a token has far too much entropy
to be guessed from its hash, so a slow password hash would only slow every API call).  Revoking
deletes the row.  ``last_used_time`` is written at most once a minute per token, so that a
script polling the API does not turn every read into a write.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets as random_tokens
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, MetaData, String, Table, delete, insert, select, update

from bots_scheduler.access.roles import check_role
from bots_scheduler.datastore.tables import UtcDateTime
from bots_scheduler.errors import InvalidInput

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PREFIX = "bst_"
PREFIX_LENGTH = 48
MAX_EXPIRES_DAYS = 3650
LAST_USED_EVERY = timedelta(minutes=1)


class TokenError(InvalidInput):
    """A token request that cannot be done (one line, exit 2)."""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    role: str
    created_time: datetime
    expires_time: datetime | None
    last_used_time: datetime | None
    created_by: str


def make_tokens_table(jobs_table: str) -> Table:
    return Table(
        f"{jobs_table[:PREFIX_LENGTH]}_tokens", MetaData(),
        Column("name", String(64), primary_key=True),
        Column("role", String(16), nullable=False),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("created_time", UtcDateTime, nullable=False),
        Column("expires_time", UtcDateTime),                 # NULL: never
        Column("last_used_time", UtcDateTime),
        Column("created_by", String(255), nullable=False, default=""),
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenStore:
    def __init__(self, engine, jobs_table: str):
        self.engine = engine
        self.table = make_tokens_table(jobs_table)

    def create_table(self) -> None:
        self.table.metadata.create_all(self.engine)

    # -- the CLI -----------------------------------------------------------------------------
    def create(self, name: str, role: str, expires_days: int | None = None,
               user: str = "") -> tuple[str, TokenInfo]:
        if not isinstance(name, str) or not NAME.match(name):
            raise TokenError(f"a token name is 1-64 letters, digits, '_', '.' or '-', "
                             f"not {name!r}")
        try:
            check_role(role, "--role")
        except ValueError as exc:
            raise TokenError(str(exc)) from None
        if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
            raise TokenError(f"--expires-days must be from 1 to {MAX_EXPIRES_DAYS}")
        token = PREFIX + random_tokens.token_urlsafe(32)
        now = _utcnow()
        expires = now + timedelta(days=expires_days) if expires_days else None
        with self.engine.begin() as conn:
            if conn.execute(select(self.table.c.name)
                            .where(self.table.c.name == name)).first() is not None:
                raise TokenError(f"a token named {name!r} exists; revoke it first")
            conn.execute(insert(self.table).values(
                name=name, role=role, token_hash=token_hash(token), created_time=now,
                expires_time=expires, created_by=user[:255]))
        return token, TokenInfo(name, role, now, expires, None, user)

    def list(self) -> list[TokenInfo]:
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.name, t.c.role, t.c.created_time, t.c.expires_time,
                                       t.c.last_used_time, t.c.created_by)
                                .order_by(t.c.name)).all()
        return [TokenInfo(*row) for row in rows]

    def revoke(self, name: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(delete(self.table).where(self.table.c.name == name)).rowcount
        if not done:
            raise TokenError(f"no token named {name!r}")

    # -- each request ------------------------------------------------------------------------
    def authenticate(self, token: str) -> tuple[str, str] | None:
        """(name, role) of a valid token; None when unknown, revoked or expired."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        digest = token_hash(token)
        t = self.table
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.name, t.c.role, t.c.token_hash, t.c.expires_time,
                                      t.c.last_used_time)
                               .where(t.c.token_hash == digest)).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        now = _utcnow()
        if row.expires_time is not None and row.expires_time <= now:
            return None
        if row.last_used_time is None or now - row.last_used_time >= LAST_USED_EVERY:
            with self.engine.begin() as conn:
                conn.execute(update(t).where(t.c.name == row.name).values(last_used_time=now))
        return row.name, row.role


def _utcnow() -> datetime:
    from bots_scheduler.datastore.store import utcnow
    return utcnow()
