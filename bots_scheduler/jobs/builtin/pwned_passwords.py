"""Have I Been Pwned? — Pwned Passwords check through the k-anonymity range API.

For each password only the first five hex characters of its SHA-1 are sent
(GET /range/{prefix}, with ``Add-Padding: true`` so the answer's size says nothing either);
the suffixes are compared here.  Neither the report nor ``_data`` holds a password in full.
"""
from __future__ import annotations

import hashlib

from bots_scheduler.jobs.base import JobBase, JobFailed
from bots_scheduler.jobs.builtin._inputs import BadLine, bad_lines_section
from bots_scheduler.jobs.builtin._service import (ServiceClient, ServiceError, Stopped,
                                                  base_url, failure, summary_table)
from bots_scheduler.jobs.finding import Finding
from bots_scheduler.jobs.builtin._findings import findings_section
from bots_scheduler.jobs.report import Section, Table, Text, report

URL_VARIABLE = "BOTS_SCHEDULER_PWNEDPASSWORDS_URL"
DEFAULT_URL = "https://api.pwnedpasswords.com"
MAX_PASSWORD = 1000


def mask(password: str) -> str:
    """Never the password: its first character for long ones, else nothing."""
    return (password[0] if len(password) >= 8 else "") + "*****"


def read_passwords(path) -> tuple[list[tuple[int, str]], list[BadLine]]:
    """Each line is a password, taken as is (only the line break is removed); empty lines and
    lines starting with ``#`` (comments, as in every data file) are skipped."""
    if not path:
        raise JobFailed("no file of passwords given")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise JobFailed(f"cannot read the file of passwords: {exc.strerror or exc}") from exc
    good, bad = [], []
    for number, line in enumerate(raw.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        line = line.removesuffix(b"\r")
        if not line or line.startswith(b"#"):
            continue
        try:
            password = line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(BadLine(number, "(not shown)", "not UTF-8 text"))
            continue
        if len(password) > MAX_PASSWORD:
            bad.append(BadLine(number, "(not shown)", f"longer than {MAX_PASSWORD} characters"))
            continue
        good.append((number, password))
    return good, bad


def parse_range(text: str) -> dict[str, int]:
    """``SUFFIX:COUNT`` lines as a dict; padding lines (count 0) dropped."""
    counts = {}
    for line in text.splitlines():
        suffix, _, count = line.strip().partition(":")
        if count.strip().isdigit() and int(count) > 0:
            counts[suffix.strip().upper()] = int(count)
    return counts


class PwnedPasswordsJob(JobBase):
    info = {
        "job_class_name": "Have I Been Pwned? — Pwned Passwords check",
        "notes": "Checks each password of a file (one a line) against Pwned Passwords with the "
                 "k-anonymity range API: only the first 5 hex characters of each password's "
                 "SHA-1 leave the machine. The report lists which lines were found and how "
                 "often, never the passwords in full. No API key needed.",
        "arguments": [
            {"type": "file", "description": "File of passwords, one a line"},
        ],
        "example_arguments": '["passwords.txt"]',
        "report_title": "Pwned Passwords check",
    }

    @report
    def run(self, passwords_file=None, *args, **kwargs):
        passwords, bad = read_passwords(passwords_file)
        client = ServiceClient("Pwned Passwords", base_url(URL_VARIABLE, DEFAULT_URL),
                               headers={"Add-Padding": "true", "Accept": "text/plain"},
                               stop_event=self.stop_event)
        ranges: dict[str, dict[str, int]] = {}
        found, checked = [], 0
        try:
            for number, password in passwords:
                digest = hashlib.sha1(password.encode("utf-8")).hexdigest().upper()
                prefix, suffix = digest[:5], digest[5:]
                if prefix not in ranges:
                    ranges[prefix] = parse_range(client.get(f"/range/{prefix}").text)
                checked += 1
                if suffix in ranges[prefix]:
                    found.append((number, mask(password), ranges[prefix][suffix], prefix))
        except (ServiceError, Stopped) as exc:
            raise failure(self, f"Pwned Passwords: {exc}",
                          self._items(len(passwords), checked, found, bad)) from None
        finally:
            client.close()
        self._data = {f"line {number} ({masked})": count for number, masked, count, _ in found}
        return self._items(len(passwords), checked, found, bad)

    @staticmethod
    def _items(total, checked, found, bad):
        items = [Section("Summary", summary_table([
            ["passwords in the file", total],
            ["checked", checked],
            ["found in breaches", len(found)],
            ["lines skipped", len(bad)],
        ]))]
        if found:
            items.append(Section("Pwned passwords", Text(
                "These passwords appear in breached data: change them wherever they are used."),
                Table([[number, masked, f"{count:,}"] for number, masked, count, _ in found],
                      headers=["line", "password", "times seen"])))
        else:
            items.append(Section("Pwned passwords", Text("None of the checked passwords was "
                                                         "found.")))
        # key: the 5 hex digits of the SHA-1 that were sent anyway, and the line; never the
        # password, its mask or its full hash (the count changes as breaches are added: not a
        # detail, or every run would see the finding "changed")
        findings = [Finding("pwned-password", f"{prefix}:{number}",
                            f"The password on line {number} appears in breached data", "high",
                            line=number)
                    for number, _masked, _count, prefix in found]
        return items + findings_section(findings) + bad_lines_section(bad)
