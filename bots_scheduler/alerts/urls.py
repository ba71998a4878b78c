"""Apprise URLs of alert profiles: parsing, secrets, and keeping them out of logs.

An alert URL carries its credentials (a Slack webhook's path is its token), so no URL is ever
written anywhere: a service is named ``url N (Service)``.  Apprise's own logger is silenced for
good, and what urllib3 and requests log while an alert thread sends (their debug lines hold the
request path) is dropped, also with ``--debug``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import apprise

SECRET_PREFIX = "secret:"
THREAD_PREFIX = "alert-"


class _DropAlertThreads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName or "").startswith(THREAD_PREFIX)


def quiet_libraries() -> None:
    """Apprise logs URLs (at debug and warning levels): never let it log.  urllib3/requests
    log request lines with their paths: not from alert threads."""
    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)
    for name in ("urllib3", "urllib3.connectionpool", "requests"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropAlertThreads) for f in logger.filters):
            logger.addFilter(_DropAlertThreads())


quiet_libraries()


class UnknownSecret(Exception):
    """``secret:NAME`` cannot be resolved (no such secret, no secrets store, a wrong key)."""


SecretLookup = Callable[[str], str]     # name -> value; raises when there is none


@dataclass(frozen=True)
class AlertUrl:
    """One entry of a profile's ``urls``: an Apprise URL, or ``secret:NAME``."""

    position: int           # 1-based, for messages ("url 2")
    text: str = ""          # the URL itself (never shown)
    secret: str = ""        # or the name of the secret holding it (may be shown)

    @property
    def label(self) -> str:
        return f"url {self.position} (secret {self.secret})" if self.secret else \
            f"url {self.position}"

    def value(self, lookup: SecretLookup | None = None) -> str:
        """The URL; a secret's value through ``lookup`` (the secrets store, CONTRACT §7),
        resolved at each delivery so that a changed secret takes effect at once."""
        if not self.secret:
            return self.text
        if lookup is None:
            raise UnknownSecret(f"secret {self.secret!r}: no secrets store here")
        try:
            value = lookup(self.secret)
        except Exception as exc:      # SecretNotFound, KeyUnavailable: say which, not the value
            raise UnknownSecret(f"secret {self.secret!r}: {exc}") from None
        if not value:
            raise UnknownSecret(f"secret {self.secret!r} is empty")
        return value.strip()


def split_urls(text: str) -> list[AlertUrl]:
    """``urls`` of a profile: separated by spaces or new lines."""
    entries = []
    for position, token in enumerate(text.split(), 1):
        if token.startswith(SECRET_PREFIX):
            entries.append(AlertUrl(position, secret=token[len(SECRET_PREFIX):]))
        else:
            entries.append(AlertUrl(position, text=token))
    return entries


def service(url: str):
    """The Apprise service of ``url``, or None when Apprise cannot use it."""
    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def service_name(plugin) -> str:
    return str(getattr(plugin, "service_name", "") or type(plugin).__name__)
