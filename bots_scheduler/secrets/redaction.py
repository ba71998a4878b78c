"""Replacing secret values by ``[secret:NAME]`` in texts (reports, errors, e-mails, logs).

Longer values are replaced first, so a value that contains another is not half-replaced.  The
HTML-escaped form of each value is replaced too: reports escape job output.
"""
from __future__ import annotations

import html
import json
import logging
import re
import threading


class Redactor:
    def __init__(self, values: dict[str, str] | None = None, pairs=()):
        """``values``: {label: value}, and/or ``pairs`` of (label, value) (a label may stand
        for several values); a label is a secret's name (shown as [secret:NAME])."""
        given = list((values or {}).items()) + list(pairs)
        forms: dict[str, str] = {}
        for label, value in given:
            if not isinstance(value, str) or not value:
                continue
            # as written, in HTML (reports escape job output) and in JSON (a job's data)
            for form in {value, html.escape(value, quote=True), html.escape(value, quote=False),
                         json.dumps(value)[1:-1]}:
                forms.setdefault(form, f"[secret:{label}]")
        self._pairs = forms
        self._pattern = re.compile("|".join(re.escape(form) for form in
                                            sorted(forms, key=len, reverse=True))) if forms \
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


class SensitiveValues:
    """The secret values this process has resolved for a run, kept in memory only: the log
    lines and the standard output of the process are redacted against them (a job that logs or
    prints a value, a traceback that quotes it).  Values stay until the process ends: a line
    may be written after the run that resolved them, and a replaced secret's old value too."""

    def __init__(self):
        self._labels: dict[str, str] = {}        # value -> label
        self._redactor = Redactor()
        self._lock = threading.Lock()

    def add(self, values: dict[str, str]) -> None:
        """``values``: {label: value}, as a run resolved them."""
        fresh = {value: label for label, value in values.items()
                 if isinstance(value, str) and value and value not in self._labels}
        if not fresh:
            return
        with self._lock:
            self._labels.update(fresh)
            self._redactor = Redactor(pairs=[(label, value)
                                             for value, label in self._labels.items()])

    def text(self, value):
        return self._redactor.text(value)

    def __bool__(self) -> bool:
        return bool(self._redactor)


SENSITIVE = SensitiveValues()


class RedactingFilter(logging.Filter):
    """A handler filter: the message and the traceback of a record, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not SENSITIVE:
            return True
        message = record.getMessage()
        redacted = SENSITIVE.text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[0] is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = SENSITIVE.text(text)
        return True


class RedactingStream:
    """sys.stdout / sys.stderr of a process that runs jobs: what a job prints is redacted."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(SENSITIVE.text(text) if SENSITIVE else text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def install() -> None:
    """Redact this process's log handlers and standard streams (call once logging is set)."""
    import sys
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream))
