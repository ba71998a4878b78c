"""Alert profiles: the sections of the ``--alert-config`` INI file (CONTRACT §8).

    [ops-slack]
    urls = slack://T000/B000/XXXX
           secret:pager-webhook
    events = new-findings, failure, recovery
    after_failures = 2

Every section of the file is read and checked at start-up (a job's ``alert_profiles`` may name
any of them); ``--alert-profile`` selects the ones used for jobs that name none.  Every mistake
raises ``UsageError`` with one line, so a bad configuration stops ``run`` before anything starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bots_scheduler.alerts.urls import AlertUrl, UnknownSecret, service, split_urls
from bots_scheduler.checks import read_ini
from bots_scheduler.errors import UsageError

EVENTS = ("new-findings", "changed-findings", "gone-findings", "failure", "recovery",
          "every-run")
DEFAULT_EVENTS = ("new-findings", "failure", "recovery")
KNOWN_KEYS = ("urls", "events", "after_failures")


@dataclass(frozen=True)
class AlertProfile:
    name: str
    urls: tuple[AlertUrl, ...]
    events: frozenset[str] = frozenset(DEFAULT_EVENTS)
    after_failures: int = 1

    def describe(self) -> str:
        """One line for logs: never a URL."""
        text = f"{self.name}: {len(self.urls)} URL(s), events {', '.join(sorted(self.events))}"
        if self.after_failures > 1:
            text += f", failure alerts from the {self.after_failures}th failed run in a row"
        return text


@dataclass(frozen=True)
class AlertConfig:
    """Every profile of the file, and the ones selected by default."""
    profiles: dict
    selected: tuple[str, ...] = ()

    def get(self, name: str) -> AlertProfile | None:
        return self.profiles.get(name)

    @property
    def any(self) -> bool:
        return bool(self.profiles)


EMPTY = AlertConfig({}, ())


def load_alert_config(config_path, selected=(), selector="--alert-profile",
                      secrets=None) -> AlertConfig:
    """The profiles of ``config_path``, checked.  A missing file is no profile at all, unless
    profiles are selected.  ``secrets`` (name -> value): a ``secret:NAME`` URL must resolve
    to a URL Apprise can use now too (alert-test)."""
    selected = tuple(dict.fromkeys(selected or ()))
    path = Path(config_path)
    if not path.is_file():
        if selected:
            raise UsageError(f"--alert-config: {path} not found (needed by {selector} "
                             f"{' '.join(selected)}; `bots-scheduler reset` writes one from "
                             f"the template)")
        return EMPTY
    config = read_ini("--alert-config", path)
    profiles = {name: parse_profile(name, dict(config[name]), path, secrets)
                for name in config.sections()}
    for name in selected:
        if name not in profiles:
            raise UsageError(f"{selector}: no profile {name!r} in {path} "
                             f"(available: {', '.join(profiles) or 'none'})")
    return AlertConfig(profiles, selected)


def parse_profile(name: str, section: dict, path, secrets=None) -> AlertProfile:
    where = f"--alert-config {path} [{name}]"
    values = {key: (value or "").strip() for key, value in section.items()}
    unknown = sorted(set(values) - set(KNOWN_KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(KNOWN_KEYS)})")
    urls = split_urls(values.get("urls", ""))
    if not urls:
        raise UsageError(f"{where}: urls is missing (Apprise URLs separated by spaces or new "
                         f"lines, or secret:NAME)")
    for url in urls:
        if url.secret:
            if not url.secret or any(ch not in _NAME_CHARS for ch in url.secret) \
                    or len(url.secret) > 64:
                raise UsageError(f"{where}: {url.label}: not a secret name")
            if secrets is not None:
                try:
                    value = url.value(secrets)
                except UnknownSecret as exc:
                    raise UsageError(f"{where}: {url.label}: {exc}") from None
                if service(value) is None:
                    raise UsageError(f"{where}: {url.label}: Apprise cannot use the URL held "
                                     f"by the secret")
        elif service(url.text) is None:
            # never echo the URL: it may carry a token; its scheme is enough to find it
            scheme = url.text.split("://", 1)[0] if "://" in url.text else "?"
            raise UsageError(f"{where}: {url.label} ({scheme[:20]}://...) is not a URL Apprise "
                             f"can use (see https://github.com/caronc/apprise/wiki)")
    return AlertProfile(name, tuple(urls), _events(where, values.get("events", "")),
                        _after_failures(where, values.get("after_failures", "")))


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def _events(where: str, text: str) -> frozenset[str]:
    if not text:
        return frozenset(DEFAULT_EVENTS)
    events = [event.strip() for event in text.replace("\n", ",").split(",") if event.strip()]
    for event in events:
        if event not in EVENTS:
            raise UsageError(f"{where}: unknown event {event!r} (events: {', '.join(EVENTS)})")
    if not events:
        raise UsageError(f"{where}: events is empty (events: {', '.join(EVENTS)})")
    return frozenset(events)


def _after_failures(where: str, text: str) -> int:
    if not text:
        return 1
    try:
        number = int(text, 10)
    except ValueError:
        number = 0
    if not 1 <= number <= 1000:
        raise UsageError(f"{where}: after_failures must be a whole number from 1 to 1000, "
                         f"not {text!r}")
    return number
