"""The ``Finding`` report item (CONTRACT §8) and how findings are gathered from a run's items.

It lives with the other report items (the plugin API); the ``findings`` package records them.

A finding is checked when it is made, so that a job returning a bad one fails right there, with
a report saying which value is wrong, and its run records nothing (``InvalidFinding`` is a
``JobFailed``: the runner ends the run ``failed`` with that message as its report).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from bots_scheduler.jobs.base import JobFailed
from bots_scheduler.jobs.report import PLAIN, Data, Renderer, ReportItem

SEVERITIES = ("info", "low", "medium", "high", "critical")
STATES = ("open", "gone")
CHANGES = ("new", "changed", "unchanged", "gone")
MAX_IDENTITY_CHARS = 512


class InvalidFinding(JobFailed):
    """A Finding with a bad kind, key, severity, title or details."""


def _identity_part(name: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidFinding(f"Finding: {name} must be a non-empty string, not {value!r:.80}")
    if len(value) > MAX_IDENTITY_CHARS:
        raise InvalidFinding(f"Finding: {name} must be at most {MAX_IDENTITY_CHARS} characters, "
                             f"not {len(value)} ({value[:40]!r}...)")
    if "\x00" in value:
        raise InvalidFinding(f"Finding: {name} must not contain a NUL character")
    return value


class Finding(ReportItem):
    """One thing a run found: ``kind`` (what sort of thing, e.g. ``open-port``) and ``key``
    (which one, e.g. ``192.0.2.1:22/tcp``) name it within its job; ``title``, ``severity`` and
    the ``details`` (JSON values) describe it and are what a later run may see ``changed``."""

    css = "report-finding"

    def __init__(self, kind, key, title=None, severity="info", **details):
        super().__init__()
        self.kind = _identity_part("kind", kind)
        self.key = _identity_part("key", key)
        if title is not None and not isinstance(title, str):
            raise InvalidFinding(f"Finding {kind}/{key}: title must be a string or None, "
                                 f"not {type(title).__name__}")
        self.title = title
        if severity not in SEVERITIES:
            raise InvalidFinding(f"Finding {kind}/{key}: severity must be one of "
                                 f"{', '.join(SEVERITIES)}, not {severity!r:.40}")
        self.severity = severity
        try:
            # strict: only JSON values (no sets, dates or objects; no NaN), so that what is
            # stored reads back equal and a later run compares like with like
            self.details_json = json.dumps(details, sort_keys=True, allow_nan=False,
                                           ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise InvalidFinding(f"Finding {kind}/{key}: details must be JSON values "
                                 f"(strings, numbers, booleans, null, lists, objects): "
                                 f"{exc}") from None
        self.details = details

    @property
    def digest(self) -> str:
        """Changes when title, severity or details change (what ``changed`` means)."""
        return _digest(self.title is None, self.title or "", self.severity, self.details_json)

    def render(self, renderer: Renderer | None = None) -> str:
        # every string through the renderer (escaped, and redacted when it redacts)
        r = renderer or PLAIN
        text = r.text
        title = f' <span class="finding-title">{text(self.title)}</span>' if self.title else ""
        details = Data(self.details).render(r) if self.details else ""
        return (f'<div class="report-finding severity-{self.severity}">'
                f'<span class="finding-severity">{self.severity}</span> '
                f'<span class="finding-kind">{text(self.kind)}</span> '
                f'<code class="finding-key">{text(self.key)}</code>{title}{details}</div>')

    def as_dict(self) -> dict:
        return {"kind": self.kind, "key": self.key, "title": self.title,
                "severity": self.severity, "details": self.details}

    def __repr__(self):
        return f"Finding({self.kind!r}, {self.key!r}, severity={self.severity!r})"


def identity(job_id: str, kind: str, key: str) -> str:
    """The stored identity of (job, kind, key): a fixed-size digest, so that one unique index
    holds it on every DBMS (MySQL cannot index 1,200 characters of utf8mb4)."""
    return _digest(job_id, kind, key)


def _digest(*parts) -> str:
    """SHA-256 of the parts, each prefixed by its length (no two lists of parts share a text;
    cheaper than JSON for 10,000 findings a run)."""
    text = "".join(f"{len(str(part))}:{part}" for part in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def collect_findings(items) -> list[Finding]:
    """The findings among a run's report items, nested ones included, in order; the first of
    several with the same (kind, key) counts."""
    found: dict[tuple[str, str], Finding] = {}
    stack = [items]
    seen_ids = set()
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, (str, bytes, int, float)):
            continue
        if id(item) in seen_ids:
            continue
        seen_ids.add(id(item))
        if isinstance(item, Finding):
            found.setdefault((item.kind, item.key), item)
            continue
        if isinstance(item, ReportItem):
            nested = list(item.children)
            for attribute in ("items", "rows"):
                value = getattr(item, attribute, None)
                if isinstance(value, (list, tuple)):
                    nested.extend(value)
            stack.extend(reversed(nested))
        elif isinstance(item, Mapping):
            continue
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
    return list(found.values())
