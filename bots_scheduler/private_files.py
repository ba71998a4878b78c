"""Files and folders only the user running Bots Scheduler may read (issue 13): the data folder
(0700), the SQLite datastore with its WAL, shared-memory and lock files, and every secret we
generate (0600), whatever the umask.

New ones are created with these modes; existing ones with group or other bits are tightened,
and the log says so once. SQLite creates its ``-wal`` and ``-shm`` files with the mode of the
database file, so a 0600 database keeps them private too.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal", ".lock")


def private_folder(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700, or tighten it to 0700."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as 0600 if missing, or tighten it to 0600."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        _tighten_fd(fd, path, 0o600)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, content: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``content`` atomically: written to a temporary file of ``mode`` in
    the same folder, then renamed, so it is never readable by others and never half written."""
    path = Path(path)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.resolve().parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def private_sqlite(database: Path) -> None:
    """The database file 0600 before SQLite opens it, and its companions tightened."""
    database = Path(database)
    if not database.parent.exists():
        private_folder(database.parent)
    private_file(database)
    for suffix in SQLITE_COMPANIONS:
        companion = Path(f"{database}{suffix}")
        if companion.exists():
            _tighten(companion, 0o600)


def _tighten(path: Path, mode: int) -> None:
    try:
        current = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return
    if current & 0o077:
        os.chmod(path, current & 0o700 | (mode & 0o700))
        log.warning("%s could be read by other users (mode %04o); it is now %04o",
                    path, current, mode)


def _tighten_fd(fd: int, path: Path, mode: int) -> None:
    current = os.fstat(fd).st_mode & 0o7777
    if current & 0o077:
        os.fchmod(fd, mode)
        log.warning("%s could be read by other users (mode %04o); it is now %04o",
                    path, current, mode)
