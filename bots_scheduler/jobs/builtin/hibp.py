"""Have I Been Pwned? — breaches of e-mail addresses and domains (HIBP API v3).

E-mail addresses: GET /breachedaccount/{address}?truncateResponse=false.
Domains: GET /breacheddomain/{domain} (the breached addresses of a domain verified in the HIBP
dashboard of the key's owner), GET /breaches?domain={domain} (breaches of the site itself) and
GET /breach/{name} for the details of the breaches named.  Every request carries the
``hibp-api-key`` and ``user-agent`` headers the API requires.
"""
from __future__ import annotations

from urllib.parse import quote

from bots_scheduler.jobs.base import JobBase, JobFailed
from bots_scheduler.jobs.builtin._inputs import bad_lines_section, parse_accounts, read_lines
from bots_scheduler.jobs.builtin._service import (ServiceClient, ServiceError, Stopped,
                                                  base_url, failure, summary_table)
from bots_scheduler.jobs.finding import Finding
from bots_scheduler.jobs.builtin._findings import findings_section
from bots_scheduler.jobs.report import Section, Subsection, Table, Text, report

URL_VARIABLE = "BOTS_SCHEDULER_HIBP_URL"
DEFAULT_URL = "https://haveibeenpwned.com/api/v3"
FLAGS = (("IsVerified", "verified"), ("IsFabricated", "fabricated"),
         ("IsSensitive", "sensitive"), ("IsRetired", "retired"), ("IsSpamList", "spam list"),
         ("IsMalware", "malware"), ("IsStealerLog", "stealer log"))
BREACH_HEADERS = ["breach", "date", "accounts", "compromised data", "flags"]


def breach_row(breach: dict) -> list:
    flags = [label for key, label in FLAGS if breach.get(key)]
    if "IsVerified" in breach and not breach.get("IsVerified"):
        flags.append("unverified")
    count = breach.get("PwnCount")
    return [breach.get("Title") or breach.get("Name") or "?",
            breach.get("BreachDate") or "",
            f"{count:,}" if isinstance(count, int) else (count or ""),
            ", ".join(breach.get("DataClasses") or []),
            ", ".join(flags)]


def breach_finding(account: str, breach: dict) -> Finding:
    """``breach`` ``ACCOUNT:BREACH_NAME``: high when passwords leaked, else medium."""
    name = breach.get("Name") or breach.get("Title") or "?"
    classes = sorted(str(c) for c in breach.get("DataClasses") or [])
    details = {"breach_date": str(breach.get("BreachDate") or "")}
    if classes:
        details["data_classes"] = classes
    return Finding("breach", f"{account}:{name}", breach.get("Title") or name,
                   "high" if "Passwords" in classes else "medium", **details)


def breach_findings(results: dict, breaches: dict) -> list[Finding]:
    found = []
    for entry, result in results.items():
        if result["kind"] == "email":
            found += [breach_finding(entry, b) for b in result["breaches"]]
        else:
            for alias, names in sorted(result["addresses"].items()):
                found += [breach_finding(f"{alias}@{entry}", breaches.get(n) or {"Name": n})
                          for n in names]
            found += [breach_finding(entry, b) for b in result["site_breaches"]]
    return found


class HaveIBeenPwnedJob(JobBase):
    info = {
        "job_class_name": "Have I Been Pwned? — breaches check",
        "notes": "Checks each e-mail address and domain of a file against Have I Been Pwned: "
                 "per entry the breaches with their date, size, compromised data and flags. "
                 "Domain searches need the domain verified in your HIBP dashboard. Respects "
                 "the API's rate limit (Retry-After).",
        "arguments": [
            {"type": "secret", "description": "HIBP API key"},
            {"type": "file", "description": "File of e-mail addresses and/or domains, one a line"},
        ],
        "example_arguments": '["HIBP_API_KEY", "hibp/accounts.txt"]',
        "report_title": "Have I Been Pwned? breaches",
    }

    @report
    def run(self, api_key=None, accounts_file=None, *args, **kwargs):
        if not isinstance(api_key, str) or not api_key.strip():
            raise JobFailed("no HIBP API key given (first argument)")
        entries, bad = parse_accounts(read_lines(accounts_file, "file of e-mail addresses"))
        client = ServiceClient("Have I Been Pwned", base_url(URL_VARIABLE, DEFAULT_URL),
                               headers={"hibp-api-key": api_key.strip()},
                               stop_event=self.stop_event)
        results, breaches = {}, {}
        try:
            for kind, value in entries:
                if kind == "email":
                    results[value] = self._account(client, value)
                else:
                    results[value] = self._domain(client, value, breaches)
        except (ServiceError, Stopped) as exc:
            raise failure(self, f"Have I Been Pwned: {exc}",
                          self._items(entries, results, breaches, bad)) from None
        finally:
            client.close()
        self._data = self._findings(results)
        return self._items(entries, results, breaches, bad)

    # -- queries ------------------------------------------------------------------------------
    def _account(self, client, address):
        response = client.get(f"/breachedaccount/{quote(address, safe='@')}",
                              {"truncateResponse": "false"}, expect=(200, 404))
        found = client.decode(response) if response.status_code == 200 else []
        return {"kind": "email", "breaches": [b for b in found if isinstance(b, dict)]}

    def _domain(self, client, domain, breaches):
        response = client.get(f"/breacheddomain/{quote(domain)}", expect=(200, 404))
        addresses = client.decode(response) if response.status_code == 200 else {}
        if not isinstance(addresses, dict):
            addresses = {}
        site = client.get_json("/breaches", {"domain": domain})
        site = [b for b in site if isinstance(b, dict)] if isinstance(site, list) else []
        for breach in site:
            breaches.setdefault(breach.get("Name"), breach)
        for name in sorted({n for names in addresses.values() for n in names or []}):
            if name not in breaches:
                detail = client.get(f"/breach/{quote(name)}", expect=(200, 404))
                breaches[name] = client.decode(detail) if detail.status_code == 200 \
                    else {"Name": name}
        return {"kind": "domain", "addresses": {alias: sorted(names or [])
                                                for alias, names in addresses.items()},
                "site_breaches": site}

    # -- report -------------------------------------------------------------------------------
    @staticmethod
    def _findings(results) -> dict:
        data = {}
        for entry, result in results.items():
            if result["kind"] == "email" and result["breaches"]:
                data[entry] = sorted(b.get("Name", "?") for b in result["breaches"])
            elif result["kind"] == "domain" and (result["addresses"] or result["site_breaches"]):
                data[entry] = {
                    "addresses": {f"{alias}@{entry}": names
                                  for alias, names in sorted(result["addresses"].items())},
                    "site_breaches": sorted(b.get("Name", "?") for b in result["site_breaches"]),
                }
        return data

    def _items(self, entries, results, breaches, bad):
        pwned = [entry for entry, r in results.items()
                 if r.get("breaches") or r.get("addresses") or r.get("site_breaches")]
        items = [Section("Summary", summary_table([
            ["entries checked", len(results)],
            ["entries with breaches", len(pwned)],
            ["entries not checked (run ended early)", len(entries) - len(results)],
            ["lines skipped", len(bad)],
        ]))]
        for _kind, value in entries:
            if value in results:
                items.append(self._entry_section(value, results[value], breaches))
        return items + findings_section(breach_findings(results, breaches)) + \
            bad_lines_section(bad)

    @staticmethod
    def _entry_section(entry, result, breaches):
        if result["kind"] == "email":
            if not result["breaches"]:
                return Section(entry, Text("Not found in any breach."))
            rows = sorted((breach_row(b) for b in result["breaches"]),
                          key=lambda row: row[1], reverse=True)
            return Section(entry, Text(f"Found in {len(rows)} breaches."),
                           Table(rows, headers=BREACH_HEADERS))
        parts = []
        if result["addresses"]:
            rows = [[f"{alias}@{entry}", ", ".join(names)]
                    for alias, names in sorted(result["addresses"].items())]
            named = sorted({n for names in result["addresses"].values() for n in names})
            parts.append(Subsection(f"Breached addresses ({len(rows)})",
                                    Table(rows, headers=["address", "breaches"]),
                                    Table([breach_row(breaches.get(n) or {"Name": n})
                                           for n in named], headers=BREACH_HEADERS)))
        if result["site_breaches"]:
            parts.append(Subsection("Breaches of this site",
                                    Table([breach_row(b) for b in result["site_breaches"]],
                                          headers=BREACH_HEADERS)))
        return Section(entry, *(parts or [Text("No breached address and no breach of this "
                                               "site.")]))
