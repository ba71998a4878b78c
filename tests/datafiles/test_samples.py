"""The sample lists shipped with the package and restored by ``bots-scheduler reset``."""
from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest

from bots_scheduler.datafiles.samples import sample_files
from bots_scheduler.datafiles.validation import check_content, check_name

DOCUMENTATION_NETWORKS = [ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")


def entries(path):
    return [line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_the_samples_are_valid_data_files_with_a_description():
    names = [path.name for path in sample_files()]
    assert names == ["domains.txt", "emails.txt", "ips.txt", "passwords.txt"]
    for path in sample_files():
        checker = check_content(path.read_bytes())
        assert checker.description and checker.entries >= 4
        check_name(f"samples/{path.name}")


def test_sample_addresses_are_only_documentation_ranges():
    ips = next(path for path in sample_files() if path.name == "ips.txt")
    for entry in entries(ips):
        network = ipaddress.ip_network(entry)
        assert any(network.subnet_of(doc) for doc in DOCUMENTATION_NETWORKS
                   if doc.version == network.version), entry


@pytest.mark.parametrize("name", ["emails.txt", "domains.txt"])
def test_sample_domains_are_only_reserved_example_domains(name):
    path = next(path for path in sample_files() if path.name == name)
    for entry in entries(path):
        domain = entry.rpartition("@")[2]
        assert domain.endswith(EXAMPLE_DOMAINS), entry


def test_reset_restores_the_samples_and_the_next_run_lists_them(server, workdir):
    (workdir / "data").mkdir()
    (workdir / "data" / "mine.txt").write_text("x\n")
    done = subprocess.run([sys.executable, "-m", "bots_scheduler", "reset", "-y"], cwd=workdir,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "reset: restored the sample list samples/ips.txt" in done.stdout
    assert not (workdir / "data" / "mine.txt").exists()
    srv = server()
    files = {f["filename"]: f for f in srv.get("/api/v1/files").json()["files"]}
    assert set(files) == {"samples/domains.txt", "samples/emails.txt", "samples/ips.txt",
                          "samples/passwords.txt"}
    assert files["samples/ips.txt"]["entries"] == 6
