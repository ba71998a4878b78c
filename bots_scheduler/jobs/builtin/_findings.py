"""The findings of the built-in jobs (CONTRACT §8): their keys and their report section."""
from __future__ import annotations

import ipaddress

from bots_scheduler.jobs.finding import Finding
from bots_scheduler.jobs.report import Section


def port_key(ip: str, port, transport: str | None) -> str:
    """``IP:PORT/PROTOCOL``; an IPv6 address in brackets, so that the port stays readable."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        address = None
    host = f"[{ip}]" if address is not None and address.version == 6 else ip
    return f"{host}:{port}/{(transport or 'tcp').lower()}"


def findings_section(findings: list[Finding]) -> list:
    """The report section listing the run's findings (recorded after a succeeded run)."""
    if not findings:
        return []
    return [Section(f"Findings ({len(findings)})", *findings)]
