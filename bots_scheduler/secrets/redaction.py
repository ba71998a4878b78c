"""Replacing secret values by ``[secret:NAME]`` in texts (reports, errors, e-mails, logs).

Longer values are replaced first, so a value that contains another is not half-replaced.  The
HTML-escaped form of each value is replaced too: reports escape job output.
"""
from __future__ import annotations

import html
import re


class Redactor:
    def __init__(self, values: dict[str, str] | None = None):
        """``values``: {label: value}; a label is a secret's name (shown as [secret:NAME])."""
        pairs: dict[str, str] = {}
        for label, value in (values or {}).items():
            if not isinstance(value, str) or not value:
                continue
            for form in {value, html.escape(value, quote=True), html.escape(value, quote=False)}:
                pairs.setdefault(form, f"[secret:{label}]")
        self._pairs = pairs
        self._pattern = re.compile("|".join(re.escape(form) for form in
                                            sorted(pairs, key=len, reverse=True))) if pairs \
            else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value):
        """``value`` redacted when it is a string; other values as they are."""
        if self._pattern is None or not isinstance(value, str):
            return value
        return self._pattern.sub(lambda match: self._pairs[match.group(0)], value)

    def deep(self, value):
        """Strings inside lists and dicts (a job's data) redacted too."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.deep(k): self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return value
