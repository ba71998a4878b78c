"""SMTP profiles: the sections of the ``--smtp-config`` INI file (CONTRACT §2).

A profile has seven fields: ``hostname, port, security, user, password, from, to``.  Two optional
extras exist for real deployments: ``timeout`` (seconds, default 30) and ``cafile`` (a PEM bundle
to verify the server's certificate with, for a private CA).  Every mistake raises ``UsageError``
with one line, so a bad configuration stops ``run`` before anything starts.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from pathlib import Path

from bots_scheduler.checks import read_ini
from bots_scheduler.errors import UsageError

SECURITY_MODES = ("unencrypted", "ssl", "starttls")
SECURITY_BY_PORT = {25: "unencrypted", 465: "ssl", 587: "starttls"}
MANDATORY = ("hostname", "port", "from", "to")
KNOWN_KEYS = ("hostname", "port", "security", "user", "password", "from", "to", "timeout",
              "cafile")
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpProfile:
    name: str
    hostname: str
    port: int
    security: str
    sender: str                         # the From header, e.g. "Bots <bots@example.com>"
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    cafile: Path | None = None

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]

    @property
    def uses_auth(self) -> bool:
        return bool(self.user)

    def describe(self) -> str:
        """One line for logs: never the password."""
        auth = f", AUTH as {self.user}" if self.uses_auth else ""
        return (f"{self.name}: {self.hostname}:{self.port} ({self.security}{auth}) "
                f"-> {', '.join(self.recipients)}")


def load_profiles(config_path, names, selector="--smtp-profile") -> tuple[SmtpProfile, ...]:
    """The selected profiles, validated; nothing is read when no profile is selected.

    ``selector`` names what selected them in messages (the option, or smtp-test's PROFILE).
    """
    names = list(dict.fromkeys(names or ()))
    if not names:
        return ()
    path = Path(config_path)
    if not path.is_file():
        raise UsageError(f"--smtp-config: {path} not found (needed by {selector} "
                         f"{' '.join(names)}; `bots-scheduler reset` creates it from the "
                         f"template)")
    config = read_ini("--smtp-config", path)
    available = ", ".join(config.sections()) or "none"
    profiles = []
    for name in names:
        if not config.has_section(name):
            raise UsageError(f"{selector}: no profile {name!r} in {path} "
                             f"(available: {available})")
        profiles.append(parse_profile(name, dict(config[name]), path))
    return tuple(profiles)


def parse_profile(name: str, section: dict, path) -> SmtpProfile:
    where = f"--smtp-config {path} [{name}]"
    values = {key: (value or "").strip() for key, value in section.items()}
    unknown = sorted(set(values) - set(KNOWN_KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(KNOWN_KEYS)})")
    missing = [key for key in MANDATORY if not values.get(key)]
    if missing:
        raise UsageError(f"{where}: missing {', '.join(missing)}")
    hostname = values["hostname"]
    if any(ch.isspace() for ch in hostname):
        raise UsageError(f"{where}: hostname must not contain spaces, not {hostname!r}")
    port = _port(where, values["port"])
    user, password = values.get("user") or None, values.get("password") or None
    if password and not user:
        raise UsageError(f"{where}: password given without user")
    if user and not password:
        raise UsageError(f"{where}: user {user!r} given without password")
    return SmtpProfile(
        name=name, hostname=hostname, port=port,
        security=_security(where, values.get("security", ""), port),
        sender=_sender(where, values["from"]),
        recipients=_recipients(where, values["to"]),
        user=user, password=password,
        timeout=_timeout(where, values.get("timeout", "")),
        cafile=_cafile(where, values.get("cafile", "")),
    )


def _port(where: str, text: str) -> int:
    try:
        port = int(text, 10)
    except ValueError:
        raise UsageError(f"{where}: port must be a whole number, not {text!r}") from None
    if not 1 <= port <= 65535:
        raise UsageError(f"{where}: port must be between 1 and 65535, not {port}")
    return port


def _security(where: str, text: str, port: int) -> str:
    if not text:
        if port not in SECURITY_BY_PORT:
            raise UsageError(f"{where}: security is missing and port {port} is not 25, 465 or "
                             f"587; set security = {' | '.join(SECURITY_MODES)}")
        return SECURITY_BY_PORT[port]
    mode = text.lower()
    if mode not in SECURITY_MODES:
        raise UsageError(f"{where}: security must be one of {', '.join(SECURITY_MODES)}, "
                         f"not {text!r}")
    return mode


def _is_address(address: str) -> bool:
    local, _, domain = address.rpartition("@")
    return bool(local) and bool(domain) and not any(ch.isspace() for ch in address)


def _sender(where: str, text: str) -> str:
    addresses = getaddresses([text])
    if len(addresses) != 1 or not _is_address(addresses[0][1]):
        raise UsageError(f"{where}: from must be one e-mail address, not {text!r}")
    return text


def _recipients(where: str, text: str) -> tuple[str, ...]:
    addresses = [address for _, address in getaddresses([text])]
    bad = [address for address in addresses if not _is_address(address)]
    if bad or not addresses:
        raise UsageError(f"{where}: to has an invalid address {(bad or [''])[0]!r} in {text!r}")
    return tuple(dict.fromkeys(addresses))


def _timeout(where: str, text: str) -> float:
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise UsageError(f"{where}: timeout must be a number of seconds between 0 and 3600, "
                         f"not {text!r}")
    return seconds


def _cafile(where: str, text: str) -> Path | None:
    if not text:
        return None
    path = Path(text)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise UsageError(f"{where}: cafile {text} does not exist or is not readable")
    return path
