"""Checking user names and passwords against the htpasswd file, fast enough for every request.

A bcrypt check costs tens of milliseconds and Basic authentication sends the password with every
request, so verified credentials are remembered for a short while (keyed by a keyed hash, never
the password itself). Verification runs on worker threads so the proxy's event loop keeps
serving, and identical credentials arriving together share one verification. The file is
re-read as soon as it changes; changing it forgets every remembered credential.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import time
from pathlib import Path

from bots_scheduler.proxy import htpasswd

log = logging.getLogger(__name__)


class Authenticator:
    def __init__(self, path: Path, executor, cache_seconds: float = 60,
                 clock=time.monotonic, max_cached: int = 10_000):
        self.path = Path(path)
        self.executor = executor
        self.cache_seconds = cache_seconds
        self.clock = clock
        self.max_cached = max_cached
        self._key = secrets.token_bytes(32)
        self._entries = None
        self._signature = object()  # differs from any stat signature: forces the first load
        self._generation = 0
        self._verified: dict[bytes, float] = {}
        self._pending: dict[bytes, asyncio.Future] = {}
        self._dummy_hash = None

    def attempt_key(self, user: str, password: str) -> bytes:
        """What identifies these credentials (a keyed hash; the limiter counts attempts by it)."""
        return self._cache_key(user, password)

    def remembered(self, key: bytes) -> bool:
        """Verified a short while ago (and the file has not changed since)."""
        self.refresh()
        expiry = self._verified.get(key)
        return expiry is not None and expiry > self.clock()

    async def check(self, user: str, password: str) -> bool:
        key = self._cache_key(user, password)
        if self.remembered(key):
            return True
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._verify(key, user, password))
            self._pending[key] = pending
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(pending)

    def has_user(self, user: str) -> bool:
        return self._stored_hash(user) is not None

    def refresh(self) -> None:
        """Re-read the file if it changed since the last look (a stat per request is cheap)."""
        signature = self._stat_signature()
        if signature == self._signature:
            return
        self._signature = signature
        self._generation += 1
        self._verified.clear()
        try:
            self._entries = htpasswd.load(self.path)
        except htpasswd.HtpasswdError as exc:
            self._entries = None  # fail closed: nobody gets in with a file we cannot read
            log.error("htpasswd: %s; refusing every login until it is fixed", exc)
            return
        if self._generation > 1:  # at start-up the launcher has warned already
            for user in htpasswd.weak_users(self._entries):
                log.warning(htpasswd.WEAK_WARNING, user)
        for user in htpasswd.unsupported_users(self._entries):
            log.warning("htpasswd: the entry of %r is in an unsupported format and can never "
                        "log in (use bcrypt: `htpasswd -B` or `bots-scheduler passwd`)", user)
        log.info("htpasswd: loaded %d user(s) from %s", len(self._entries.users()), self.path)

    async def _verify(self, key: bytes, user: str, password: str) -> bool:
        generation = self._generation
        stored = self._stored_hash(user)
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(self.executor, self._verify_hash, password, stored)
        if ok and generation == self._generation:
            self._remember(key)
        return ok

    def _stored_hash(self, user: str):
        if self._entries is None:
            return None
        try:
            return self._entries.get_hash(user)
        except ValueError:  # a user name htpasswd files cannot hold
            return None

    def _verify_hash(self, password: str, stored) -> bool:
        """Runs on a worker thread. Unknown users cost as much as known ones (no timing hint)."""
        if htpasswd.scheme_of(stored) is None:
            htpasswd.verify(password, self._dummy())
            return False
        return htpasswd.verify(password, stored)

    def _dummy(self):
        if self._dummy_hash is None:
            self._dummy_hash = htpasswd.hash_password(secrets.token_hex(16))
        return self._dummy_hash

    def _remember(self, key: bytes) -> None:
        if len(self._verified) >= self.max_cached:
            now = self.clock()
            self._verified = {k: t for k, t in self._verified.items() if t > now}
            if len(self._verified) >= self.max_cached:
                self._verified.clear()
        self._verified[key] = self.clock() + self.cache_seconds

    def _cache_key(self, user: str, password: str) -> bytes:
        message = user.encode("utf-8", "surrogatepass") + b"\0" + \
            password.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _stat_signature(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
