"""Validation of the list files the built-in jobs read."""
import ipaddress
from pathlib import Path

import pytest

import bots_scheduler

from bots_scheduler import JobFailed
from bots_scheduler.jobs.builtin._inputs import (MAX_LINE, normalize_domain, normalize_email,
                                                 parse_accounts, parse_domains, parse_networks,
                                                 read_lines)


def test_blank_and_comment_lines_are_ignored_and_numbers_kept(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# header\n\n  192.0.2.1  \r\n\t# indented comment\n192.0.2.2")
    assert read_lines(path) == [(3, "192.0.2.1"), (5, "192.0.2.2")]


def test_unreadable_file_fails_the_run_clearly(tmp_path):
    with pytest.raises(JobFailed, match="cannot read the list file"):
        read_lines(tmp_path / "missing.txt")
    with pytest.raises(JobFailed, match="no list file given"):
        read_lines(None)


def test_addresses_and_networks_of_both_families_are_accepted_once():
    good, bad = parse_networks([(1, "192.0.2.1"), (2, "2001:db8::/32"), (3, "192.0.2.1"),
                                (4, "198.51.100.0/24")])
    assert good == [ipaddress.ip_network("192.0.2.1/32"), ipaddress.ip_network("2001:db8::/32"),
                    ipaddress.ip_network("198.51.100.0/24")]
    assert bad == []


def test_invalid_addresses_get_a_reason():
    _, bad = parse_networks([(1, "192.0.2.300"), (2, "192.0.2.1/33"), (3, "192.0.2.1/24"),
                             (4, "x" * (MAX_LINE + 1))])
    reasons = [line.reason for line in bad]
    assert reasons[0] == "not an IP address or CIDR network"
    assert reasons[1].startswith("not a CIDR network")
    assert reasons[2] == "host bits set: did you mean 192.0.2.0/24?"
    assert reasons[3] == f"line longer than {MAX_LINE} characters"
    assert len(bad[3].text) < 100


@pytest.mark.parametrize("text, expected", [
    ("Example.ORG", "example.org"), ("www.example.org.", "www.example.org"),
    ("bücher.example", "xn--bcher-kva.example"), ("localhost", None), ("-bad.org", None),
    ("bad-.org", None), ("under_score.org", None), ("example.123", None), ("a..b.org", None),
    ("a" * 64 + ".org", None)])
def test_domain_syntax(text, expected):
    assert normalize_domain(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Alice@Example.org", "Alice@example.org"), ("first.last+tag@example.org",
                                                 "first.last+tag@example.org"),
    ("no-at-sign.example.org", None), ("@example.org", None), ("a@b", None),
    ("two@@example.org", None), (".dot@example.org", None), ("a..b@example.org", None),
    ("with space@example.org", None)])
def test_email_syntax(text, expected):
    assert normalize_email(text) == expected


def test_accounts_mix_emails_and_domains():
    good, bad = parse_accounts([(1, "alice@example.org"), (2, "example.org"), (3, "nope@"),
                                (4, "not a domain")])
    assert good == [("email", "alice@example.org"), ("domain", "example.org")]
    assert [(b.number, b.reason) for b in bad] == [
        (3, "not a valid e-mail address"), (4, "neither an e-mail address nor a domain name")]


def test_domains_are_deduplicated_after_normalisation():
    good, bad = parse_domains([(1, "example.org"), (2, "EXAMPLE.org.")])
    assert good == ["example.org"] and bad == []


def test_a_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(b"\xef\xbb\xbf192.0.2.1\n")
    assert read_lines(path) == [(1, "192.0.2.1")]


SAMPLES = Path(bots_scheduler.__file__).parent / "samples"


@pytest.mark.parametrize("name, parse", [("ips.txt", parse_networks),
                                         ("domains.txt", parse_domains),
                                         ("emails.txt", parse_accounts)])
def test_the_shipped_sample_lists_are_valid_entries(name, parse):
    good, bad = parse(read_lines(SAMPLES / name))
    assert good and bad == []
