"""Checks of the values a user gives on the command line and in INI files.

Each returns the value in its final type or raises ``UsageError`` with a one-line message that
names the option. Settings uses them, and so do the subsystems that check their own files (SMTP
profiles, the proxy's certificate); this module imports only the error module, so none of them
depends on settings.py.
"""
from __future__ import annotations

import configparser
import re
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bots_scheduler.errors import UsageError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SIZE = re.compile(r"^\s*(\d+)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
MAX_JOB_TIMEOUT = 7 * 24 * 3600


def whole_number(name: str, value: object, minimum: int = 1) -> int:
    try:
        number = int(str(value), 10)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise UsageError(f"{name} must be at least {minimum}, not {number}")
    return number


def positive_int(name: str, value: object) -> int:
    return whole_number(name, value, 1)


def non_negative_int(name: str, value: object) -> int:
    return whole_number(name, value, 0)


def byte_size(name: str, value: object) -> int:
    """A size such as 1048576, 512KiB, 10MiB or 1G (binary units: K = 1024)."""
    match = _SIZE.match(str(value))
    if not match:
        raise UsageError(f"{name} must be a size such as 1048576, 512KiB or 10MiB, "
                         f"not {value!r}")
    size = int(match.group(1)) * _SIZE_FACTORS[match.group(2)[:1].lower()]
    if size < 1:
        raise UsageError(f"{name} must be at least 1 byte")
    return size


def size_text(size: int) -> str:
    """The shortest exact spelling of ``size`` that ``byte_size`` reads back: 10MiB, 1536KiB."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def job_timeout(value: object) -> float | None:
    """--job-timeout: seconds (a whole number); 0 means no limit."""
    seconds = non_negative_int("--job-timeout", value)
    if seconds > MAX_JOB_TIMEOUT:
        raise UsageError(f"--job-timeout must be at most {MAX_JOB_TIMEOUT} seconds (7 days), "
                         f"not {seconds}")
    return float(seconds) if seconds else None


def port_number(value: object) -> int:
    try:
        port = int(str(value), 10)
    except ValueError:
        raise UsageError(f"--port must be a whole number, not {value!r}") from None
    if not 1 <= port <= 65534:
        raise UsageError(f"--port must be between 1 and 65534 (the scheduler uses PORT+1), "
                         f"not {port}")
    return port


def timezone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--timezone: unknown time zone {value!r} (use an IANA name such as "
                         f"Europe/Brussels or UTC)") from None
    return value


def table_name(option: str, value: str) -> str:
    if not _IDENTIFIER.match(value or ""):
        raise UsageError(f"{option}: {value!r} is not a plain SQL identifier (letters, digits "
                         f"and _, not starting with a digit, at most 63 characters)")
    return value


def data_directory(value: str | Path) -> Path:
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--data-dir: {value} exists and is not a folder")
    return path


def jobs_folders(given: Iterable[str] | None, default: Iterable[str] = ()) -> tuple[Path, ...]:
    """-j/--jobs: given folders must exist; a default folder may be missing (it is skipped)."""
    for folder in given or ():
        if not Path(folder).is_dir():
            raise UsageError(f"--jobs: {folder} does not exist or is not a folder")
    return tuple(Path(f) for f in (given or [f for f in default if Path(f).is_dir()]))


def read_ini(option: str, path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc}") from None
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"{option}: {path} is not a valid INI file: {first}") from None
    return parser
