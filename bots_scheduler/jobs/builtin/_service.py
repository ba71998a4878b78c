"""Talking to the online services the OSINT jobs query.

The base URL of each service comes from an environment variable of the ``run`` process, read
when a job runs (CONTRACT §4).  Every request has a timeout; ``429``/``503`` answers with a
``Retry-After`` are retried after the asked delay when it is short, while the job's stop event
interrupts the wait; anything else that is not an answer the job expects becomes a
``ServiceError`` saying what the service answered.
"""
from __future__ import annotations

import email.utils
import json
import os
import re
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests

from bots_scheduler import __version__
from bots_scheduler.jobs.base import JobFailed
from bots_scheduler.jobs.report import Report, Section, Table, Text, report_title

USER_AGENT = f"bots-scheduler/{__version__} (scheduled OSINT checks)"
TIMEOUT_VARIABLE = "BOTS_SCHEDULER_HTTP_TIMEOUT"
DEFAULT_TIMEOUT = 30.0
MAX_RETRY_AFTER = 60.0     # a longer wait asked by the service ends the run instead
MAX_RETRIES = 5
RETRY_STATUSES = (429, 503)


class ServiceError(Exception):
    """A request the service did not answer as expected; ``str()`` says what happened."""

    def __init__(self, service, message, status=None, url=None):
        super().__init__(message)
        self.service = service
        self.status = status
        self.url = url


class Stopped(Exception):
    """The job was asked to stop while waiting for the service."""


def base_url(variable: str, default: str) -> str:
    """The service's base URL from ``variable`` (read now), without a trailing slash."""
    url = (os.environ.get(variable) or default).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise JobFailed(f"{variable}={url!r} is not an http:// or https:// URL")
    return url


def request_timeout() -> float:
    """Seconds to wait for a service's answer (``BOTS_SCHEDULER_HTTP_TIMEOUT``, default 30)."""
    raw = os.environ.get(TIMEOUT_VARIABLE, "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_TIMEOUT
    except ValueError:
        raise JobFailed(f"{TIMEOUT_VARIABLE}={raw!r} is not a number of seconds") from None
    if not 0 < value <= 600:
        raise JobFailed(f"{TIMEOUT_VARIABLE}={raw!r} must be between 0 and 600 seconds")
    return value


def retry_after_seconds(value) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def describe_answer(response) -> str:
    """What the service said: its JSON error message, else the start of its body."""
    text = response.text or ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "status"):
            if isinstance(body.get(key), str) and body[key].strip():
                return body[key].strip()[:500]
    text = " ".join(text.split())
    return text[:300] + ("…" if len(text) > 300 else "") if text else response.reason or ""


def wait_or_stop(seconds: float, stop_event) -> None:
    if stop_event is None:
        time.sleep(seconds)
    elif stop_event.wait(seconds):
        raise Stopped("stopped while waiting to retry")


def network_failure(exc: Exception) -> str:
    """A short reason for a failed connection: the OS error when there is one."""
    found = re.search(r"\[Errno -?\d+\] [^'\")\]]+", str(exc))
    return found.group(0).strip() if found else type(exc).__name__


class ServiceClient:
    """A requests session for one service: base URL, headers, timeout, bounded retries."""

    def __init__(self, service, url, headers=None, auth=None, stop_event=None, timeout=None):
        self.service = service
        self.url = url
        self.stop_event = stop_event
        self.timeout = timeout if timeout is not None else request_timeout()
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self.session.headers.update(headers or {})
        self.session.auth = auth

    def close(self):
        self.session.close()

    def get(self, path, params=None, expect=(200,)):
        """GET ``path``; returns the response when its status is in ``expect``."""
        url = self.url + path
        for attempt in range(MAX_RETRIES + 1):
            if self.stop_event is not None and self.stop_event.is_set():
                raise Stopped("stopped before the next request")
            response = self._send(url, params)
            if response.status_code in expect:
                return response
            delay = retry_after_seconds(response.headers.get("Retry-After"))
            if response.status_code in RETRY_STATUSES and delay is not None \
                    and delay <= MAX_RETRY_AFTER and attempt < MAX_RETRIES:
                wait_or_stop(max(delay, 0.1), self.stop_event)
                continue
            raise ServiceError(self.service, self._explain(response, delay, attempt),
                               response.status_code, url)
        raise AssertionError("unreachable")

    def get_json(self, path, params=None):
        """The decoded JSON of a 200 answer to GET ``path``."""
        return self.decode(self.get(path, params))

    def decode(self, response):
        try:
            return response.json()
        except ValueError:
            raise ServiceError(self.service, f"HTTP {response.status_code} answer is not JSON: "
                                             f"{describe_answer(response)}",
                               response.status_code, response.url) from None

    def _send(self, url, params):
        try:
            return self.session.get(url, params=params, timeout=self.timeout)
        except requests.Timeout:
            raise ServiceError(self.service, f"no answer within {self.timeout:g} s "
                                             f"({_safe_url(url)})", None, url) from None
        except requests.RequestException as exc:
            raise ServiceError(self.service, f"cannot reach {_safe_url(url)}: "
                                             f"{network_failure(exc)}", None, url) from None

    def _explain(self, response, delay, attempt):
        said = describe_answer(response)
        message = f"HTTP {response.status_code}: {said}" if said else f"HTTP {response.status_code}"
        if response.status_code in RETRY_STATUSES:
            if delay is None:
                message += " (without a usable Retry-After)"
            elif delay > MAX_RETRY_AFTER:
                message += (f" (asked to retry after {delay:g} s, longer than the "
                            f"{MAX_RETRY_AFTER:g} s this job waits)")
            else:
                message += f" (still refused after {attempt} retries)"
        return message


def _safe_url(url: str) -> str:
    """The URL without its query string (which may carry an API key)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def failure(job, message: str, items=()) -> JobFailed:
    """A ``JobFailed`` whose report says ``message`` first, then what the run had gathered."""
    return JobFailed(message, Report(report_title(job), [Section("Run failed", Text(message)),
                                                         *items]))


def summary_table(rows) -> Table:
    return Table([[key, value] for key, value in rows], headers=["", ""])
