"""The redaction of secret values in texts, log records and a process's output."""
from __future__ import annotations

import io
import logging

from bots_scheduler.secrets.redaction import (RedactingFilter, RedactingStream, Redactor,
                                              SensitiveValues)


def test_values_and_their_html_forms_are_replaced_longest_first():
    redactor = Redactor({"short": "abc", "long": "abc<def>"})
    assert redactor.text("x abc<def> y abc") == "x [secret:long] y [secret:short]"
    assert redactor.text("in html: abc&lt;def&gt;") == "in html: [secret:long]"
    assert redactor.deep({"abc": ["abc<def>", 3]}) == {"[secret:short]": ["[secret:long]", 3]}
    assert redactor.text(5) == 5 and not Redactor({}) and Redactor(pairs=[("a", "v")])


def test_log_records_and_tracebacks_are_redacted(monkeypatch):
    values = SensitiveValues()
    monkeypatch.setattr("bots_scheduler.secrets.redaction.SENSITIVE", values)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("redaction-test")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("nothing yet %s", "old-value-1")
        values.add({"k": "old-value-1"})
        values.add({"k": "new-value-2"})      # a replaced secret: both values stay hidden
        log.warning("key %s and %s", "old-value-1", "new-value-2")
        try:
            raise RuntimeError("failed with new-value-2")
        except RuntimeError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert "nothing yet old-value-1" in text          # before it was known: as it was
    assert "key [secret:k] and [secret:k]" in text
    assert "RuntimeError: failed with [secret:k]" in text
    assert text.count("new-value-2") == 0


def test_a_redacting_stream_hides_what_a_job_prints(monkeypatch):
    values = SensitiveValues()
    monkeypatch.setattr("bots_scheduler.secrets.redaction.SENSITIVE", values)
    target = io.StringIO()
    stream = RedactingStream(target)
    stream.write("before value-9\n")
    values.add({"n": "value-9"})
    stream.write("after value-9\n")
    stream.flush()
    assert target.getvalue() == "before value-9\nafter [secret:n]\n"
