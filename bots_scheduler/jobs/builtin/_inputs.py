"""Reading and validating the list files the built-in jobs take as arguments.

A list file holds one entry a line; blank lines and lines starting with ``#`` are ignored.
A line that is not a valid entry never stops a run: it is returned as a ``BadLine`` so that the
report can list it.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from bots_scheduler.jobs.base import JobFailed
from bots_scheduler.jobs.report import Section, Table, Text

MAX_LINE = 1000          # longer lines are refused rather than echoed whole into the report
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")


@dataclass(frozen=True)
class BadLine:
    number: int
    text: str
    reason: str


def read_lines(path, what="list file") -> list[tuple[int, str]]:
    """``(line number, stripped text)`` of the meaningful lines of ``path``."""
    if not path:
        raise JobFailed(f"no {what} given")
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline=None) as handle:
            raw = handle.read().split("\n")
    except OSError as exc:
        raise JobFailed(f"cannot read the {what} {path}: {exc.strerror or exc}") from exc
    return [(number, line.strip()) for number, line in enumerate(raw, start=1)
            if line.strip() and not line.strip().startswith("#")]


def _too_long(number, text):
    return BadLine(number, text[:80] + "…", f"line longer than {MAX_LINE} characters")


def parse_networks(lines):
    """IP addresses and CIDR networks: ``([ip_network...], [BadLine...])``, duplicates dropped.

    A single address becomes a /32 (or /128) network.
    """
    good, bad, seen = [], [], set()
    for number, text in lines:
        if len(text) > MAX_LINE:
            bad.append(_too_long(number, text))
            continue
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            bad.append(BadLine(number, text, _network_reason(text, exc)))
            continue
        if network not in seen:
            seen.add(network)
            good.append(network)
    return good, bad


def _network_reason(text, exc):
    if "/" in text:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return f"not a CIDR network ({exc})"
        return f"host bits set: did you mean {loose}?"
    return "not an IP address or CIDR network"


def normalize_domain(text: str) -> str | None:
    """The domain in lower-case ASCII (IDNA), or None when it is not a valid host name."""
    name = text.strip().rstrip(".").lower()
    if not name or len(name) > 253:
        return None
    try:
        name = name.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return None
    labels = name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    if not _TLD.match(labels[-1]):
        return None
    return name


def normalize_email(text: str) -> str | None:
    """The address with its domain normalised, or None when the syntax is not an e-mail's."""
    local, at, domain = text.strip().rpartition("@")
    if not at or not _LOCAL_PART.match(local) or local.startswith(".") or local.endswith(".") \
            or ".." in local:
        return None
    domain = normalize_domain(domain)
    return f"{local}@{domain}" if domain else None


def parse_domains(lines):
    """Domain names: ``([domain...], [BadLine...])``."""
    good, bad = [], []
    for number, text in lines:
        domain = normalize_domain(text) if len(text) <= MAX_LINE else None
        if len(text) > MAX_LINE:
            bad.append(_too_long(number, text))
        elif domain is None:
            bad.append(BadLine(number, text, "not a valid domain name"))
        elif domain not in good:
            good.append(domain)
    return good, bad


def parse_accounts(lines):
    """E-mail addresses and domains: ``([("email"|"domain", value)...], [BadLine...])``."""
    good, bad = [], []
    for number, text in lines:
        if len(text) > MAX_LINE:
            bad.append(_too_long(number, text))
            continue
        if "@" in text:
            value, kind = normalize_email(text), "email"
            reason = "not a valid e-mail address"
        else:
            value, kind = normalize_domain(text), "domain"
            reason = "neither an e-mail address nor a domain name"
        if value is None:
            bad.append(BadLine(number, text, reason))
        elif (kind, value) not in good:
            good.append((kind, value))
    return good, bad


def bad_lines_section(bad, path=None):
    """A report section listing the refused lines (nothing when every line was fine)."""
    if not bad:
        return []
    where = f" of {path}" if path else ""
    return [Section(f"Lines skipped ({len(bad)})",
                    Text(f"These lines{where} are not valid entries and were not checked."),
                    Table([[line.number, line.text, line.reason] for line in bad],
                          headers=["line", "text", "reason"]))]
