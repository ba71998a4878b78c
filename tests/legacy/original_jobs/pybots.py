"""A stand-in for the pybots package the original Bots Scheduler's job modules use: the same
bots and methods, returning canned data (no network)."""
from __future__ import annotations

import copy

BREACHES = {
    "alice@example.com": [{
        "Title": "Adobe", "Name": "Adobe", "Domain": "adobe.com", "BreachDate": "2013-10-04",
        "AddedDate": "2013-12-04T00:00:00Z", "ModifiedDate": "2022-05-15T23:52:49Z",
        "PwnCount": 152445165, "DataClasses": ["Email addresses", "Passwords"],
        "Description": "In October 2013, <b>153 million</b> Adobe accounts were breached.",
        "IsVerified": True, "IsFabricated": False, "IsSensitive": False,
        "LogoPath": "https://haveibeenpwned.com/Content/Images/PwnedLogos/Adobe.png"}],
}
HOSTS = {"10.0.0.10": {"ports": [443]}, "10.0.0.2": {"ports": [22, 80]},
         "192.0.2.1": {"ports": [25]}}


class _Bot:
    def __init__(self, *credentials):
        self.credentials = credentials

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class HaveIBeenPwnedBot(_Bot):
    def breaches_from_file(self, path):
        return copy.deepcopy(BREACHES)


class PwnedPasswordsBot(_Bot):
    def check_from_file(self, path):
        with open(path) as handle:
            return [line.strip() for line in handle if line.strip()][:2]


class ShodanBot(_Bot):
    def hosts_from_file(self, path):
        return copy.deepcopy(HOSTS)


class CensysBot(_Bot):
    def hosts_from_file(self, path):
        return copy.deepcopy(HOSTS)

    def hosts_from_domains_file(self, path):
        return {"www.example.com": {"ip": "192.0.2.1"}, "api.example.com": {"ip": "192.0.2.2"}}
