"""The Finding report item: what a job may return, and what fails its run."""
from __future__ import annotations

import pytest

from bots_scheduler import Finding as ExportedFinding
from bots_scheduler.findings import Finding, InvalidFinding, collect_findings
from bots_scheduler.jobs.base import JobFailed
from bots_scheduler.jobs.report import List, Section, Table, Text, render_report


def test_the_plugin_api_exports_finding_from_both_package_names():
    import botscheduler
    namespace: dict = {}
    exec("from bots_scheduler import *", namespace)
    assert namespace["Finding"] is Finding is ExportedFinding
    assert botscheduler.Finding is Finding


@pytest.mark.parametrize("kind, key, message", [
    ("", "k", "kind must be a non-empty string"),
    ("  ", "k", "kind must be a non-empty string"),
    (3, "k", "kind must be a non-empty string"),
    ("open-port", None, "key must be a non-empty string"),
    ("open-port", "x" * 513, "key must be at most 512 characters"),
    ("k" * 513, "x", "kind must be at most 512 characters"),
])
def test_a_bad_kind_or_key_fails_the_run_with_a_message_that_says_why(kind, key, message):
    with pytest.raises(InvalidFinding, match=message) as caught:
        Finding(kind, key)
    assert isinstance(caught.value, JobFailed)      # the runner ends the run failed


def test_512_characters_are_allowed():
    assert Finding("k" * 512, "x" * 512).key == "x" * 512


def test_an_unknown_severity_or_a_non_json_detail_fails():
    with pytest.raises(InvalidFinding, match="severity must be one of info, low, medium"):
        Finding("open-port", "1.2.3.4:22/tcp", severity="urgent")
    with pytest.raises(InvalidFinding, match="details must be JSON values"):
        Finding("open-port", "1.2.3.4:22/tcp", seen={1, 2})
    with pytest.raises(InvalidFinding, match="details must be JSON values"):
        Finding("open-port", "1.2.3.4:22/tcp", score=float("nan"))
    with pytest.raises(InvalidFinding, match="title must be a string"):
        Finding("open-port", "1.2.3.4:22/tcp", title=5)


def test_the_digest_changes_with_title_severity_or_details_only():
    base = Finding("open-port", "a", "SSH", "low", banner="x")
    assert base.digest == Finding("open-port", "a", "SSH", "low", banner="x").digest
    assert base.digest != Finding("open-port", "a", "SSH", "high", banner="x").digest
    assert base.digest != Finding("open-port", "a", "SSH!", "low", banner="x").digest
    assert base.digest != Finding("open-port", "a", "SSH", "low", banner="y").digest


def test_findings_are_rendered_escaped_in_the_report():
    html = render_report("t", [Finding("xss", "<script>", "<b>bold</b>", "high",
                                       note="<img src=x>")])
    assert "<script>" not in html and "<b>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and 'severity-high' in html


def test_findings_are_collected_from_nested_items_in_order_first_one_wins():
    first, second, dup = Finding("a", "1"), Finding("a", "2", "t"), Finding("a", "1", "dup")
    items = [Section("S", Text("x"), first), List([second]), Table([[dup]]), "text"]
    assert collect_findings(items) == [first, second]
    assert collect_findings(None) == [] and collect_findings("report") == []
