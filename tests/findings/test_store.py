"""Recording findings run after run, on SQLite, PostgreSQL and MariaDB: new, changed,
unchanged, gone, and gone-then-new; reading them back with filters and history."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from bots_scheduler import jsontext
from bots_scheduler.findings import Finding
from bots_scheduler.findings.store import plain

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def as_json(payload):
    return json.loads(jsontext.dumps(payload))


def test_each_run_classifies_findings_new_changed_unchanged_and_gone(finding_store):
    store = finding_store
    first = store.record("job1", "m.C", "e1", [
        Finding("open-port", "192.0.2.1:22/tcp", "SSH", "low", product="OpenSSH"),
        Finding("open-port", "192.0.2.1:80/tcp", "HTTP"),
        Finding("hostname", "www.example.org")], at(0))
    assert first.counts.as_dict() == {"new": 3, "changed": 0, "unchanged": 0, "gone": 0}
    second = store.record("job1", "m.C", "e2", [
        Finding("open-port", "192.0.2.1:22/tcp", "SSH", "high", product="OpenSSH"),   # changed
        Finding("hostname", "www.example.org"),                                       # same
        Finding("open-port", "192.0.2.1:443/tcp", "HTTPS")], at(1))                  # new
    assert second.counts.as_dict() == {"new": 1, "changed": 1, "unchanged": 1, "gone": 1}
    assert [f.key for f in second.new] == ["192.0.2.1:443/tcp"]
    assert [f.key for f in second.changed] == ["192.0.2.1:22/tcp"]
    assert [g["key"] for g in second.gone] == ["192.0.2.1:80/tcp"]

    found, total = store.list_findings(100)
    assert total == 4
    by_key = {f["key"]: as_json(f) for f in found}
    ssh = by_key["192.0.2.1:22/tcp"]
    assert (ssh["state"], ssh["severity"], ssh["details"], ssh["first_execution_id"],
            ssh["last_execution_id"]) == ("open", "high", {"product": "OpenSSH"}, "e1", "e2")
    assert ssh["first_seen"] == "2026-12-01T08:00:00+00:00"
    assert ssh["last_seen"] == "2026-12-01T09:00:00+00:00"
    http = by_key["192.0.2.1:80/tcp"]
    # a gone finding keeps the last run that reported it
    assert (http["state"], http["last_execution_id"], http["gone_execution_id"]) == (
        "gone", "e1", "e2")
    assert store.run_counts(["e1", "e2", "nope"]) == {
        "e1": {"new": 3, "changed": 0, "unchanged": 0, "gone": 0},
        "e2": {"new": 1, "changed": 1, "unchanged": 1, "gone": 1}}


def test_a_finding_seen_again_after_gone_is_new_again(finding_store):
    store = finding_store
    store.record("j", "m.C", "e1", [Finding("hostname", "a.example")], at(0))
    assert store.record("j", "m.C", "e2", [], at(1)).counts.gone == 1
    assert store.record("j", "m.C", "e3", [], at(2)).counts.as_dict() == {
        "new": 0, "changed": 0, "unchanged": 0, "gone": 0}     # gone once, not every run
    again = store.record("j", "m.C", "e4", [Finding("hostname", "a.example")], at(3))
    assert again.counts.new == 1
    (finding,), _ = store.list_findings(10)
    finding = as_json(finding)
    assert (finding["state"], finding["first_execution_id"], finding["gone_execution_id"]) == (
        "open", "e4", "")
    history = as_json(store.get_finding(finding["id"]))["history"]
    assert [(e["execution_id"], e["change"]) for e in history] == [
        ("e4", "new"), ("e2", "gone"), ("e1", "new")]


def test_recording_the_same_execution_twice_changes_nothing(finding_store):
    store = finding_store
    findings = [Finding("hostname", "a.example"), Finding("hostname", "b.example")]
    assert store.record("j", "m.C", "e1", findings, at(0)).counts.new == 2
    assert store.record("j", "m.C", "e1", [], at(1)).counts.new == 2     # the stored counts
    _, total = store.list_findings(10, state="open")
    assert total == 2


def test_jobs_have_their_own_findings_with_the_same_kind_and_key(finding_store):
    store = finding_store
    store.record("j1", "m.C", "e1", [Finding("hostname", "a.example")], at(0))
    store.record("j2", "m.C", "e2", [Finding("hostname", "a.example")], at(0))
    assert store.record("j1", "m.C", "e3", [], at(1)).counts.gone == 1
    assert [f["state"] for f in store.list_findings(10, job_id="j2")[0]] == ["open"]


def test_filters_and_paging(finding_store):
    store = finding_store
    store.record("j1", "m.C", "e1", [Finding("open-port", f"192.0.2.{n}:22/tcp",
                                             severity="high" if n % 2 else "low")
                                     for n in range(10)], at(0))
    store.record("j2", "m.D", "e2", [Finding("hostname", "h.example", severity="info")], at(5))
    page, total = store.list_findings(3)
    assert total == 11 and len(page) == 3 and page[0]["job_id"] == "j2"   # latest event first
    keys = set()
    for offset in range(0, 11, 3):
        keys |= {f["key"] for f in store.list_findings(3, offset)[0]}
    assert len(keys) == 11
    assert store.list_findings(100, severity="high")[1] == 5
    assert store.list_findings(100, kind="hostname")[1] == 1
    assert store.list_findings(100, job_id="j1", state="gone")[1] == 0
    assert store.list_findings(100, since=at(1))[1] == 1
    assert store.list_findings(100, hidden_classes=["m.D"])[1] == 10


def test_an_executions_findings_carry_their_change_and_the_values_of_that_run(finding_store):
    store = finding_store
    store.record("j", "m.C", "e1", [Finding("k", "a", "v1"), Finding("k", "b")], at(0))
    store.record("j", "m.C", "e2", [Finding("k", "a", "v1")], at(1))
    store.record("j", "m.C", "e3", [Finding("k", "a", "v2")], at(2))
    rows, total = store.execution_findings("e2")
    assert total == 2
    assert {(r["key"], r["change"], r["title"]) for r in rows} == {
        ("a", "unchanged", "v1"), ("b", "gone", None)}
    rows, _ = store.execution_findings("e3", change="changed")
    assert [(r["key"], r["title"]) for r in rows] == [("a", "v2")]
    assert store.execution_findings("nope") == ([], 0)


def test_retention_forgets_pruned_runs_and_gone_findings_but_keeps_open_ones(finding_store):
    store = finding_store
    store.record("j", "m.C", "e1", [Finding("k", "open"), Finding("k", "old")], at(0))
    store.record("j", "m.C", "e2", [Finding("k", "open")], at(1))
    assert store.forget_executions(["e1"]) == 2
    assert store.run_counts(["e1"]) == {}
    assert store.prune_gone(at(2)) == 1
    remaining = [plain(f) for f in store.list_findings(10)[0]]
    assert [(f["key"], f["state"]) for f in remaining] == [("open", "open")]
