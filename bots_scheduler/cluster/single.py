"""SQLite is single-instance: a second ``run`` on the same database file refuses to start.

The lock is an ``flock`` on ``<database>.lock`` next to the file, held for the life of the
process; the kernel drops it when the process dies, however it dies.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bots_scheduler.errors import UsageError


class SingleInstanceLock:
    def __init__(self, database_path: Path):
        self.path = Path(f"{database_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)   # the data folder
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)          # a lock file made by an older version may be 0644
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise UsageError(f"the SQLite datastore {self.path.with_suffix('')} is already used "
                             f"by another bots-scheduler run (pid {holder}); SQLite allows one "
                             f"instance: use PostgreSQL or MySQL to run several") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
