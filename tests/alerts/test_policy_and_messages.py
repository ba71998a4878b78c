"""Which events a run triggers for a profile, and the text of the alert."""
from __future__ import annotations

from bots_scheduler.alerts.messages import MAX_LISTED, build_message
from bots_scheduler.alerts.policy import streak_of, triggered
from bots_scheduler.alerts.profiles import AlertProfile
from bots_scheduler.findings import Finding
from bots_scheduler.findings.store import Recorded, RunCounts


def profile(*events, after_failures=1):
    return AlertProfile("p", (), frozenset(events or ("new-findings", "failure", "recovery")),
                        after_failures)


def recorded(new=0, changed=0, gone=0, unchanged=0):
    return Recorded(RunCounts(new, changed, unchanged, gone),
                    tuple(Finding("open-port", f"192.0.2.{n}:22/tcp", "SSH", "high")
                          for n in range(new)))


def test_failures_in_a_row_skip_stopped_runs_and_stop_at_a_success():
    earlier = ["timeout", "stopped", "failed", "succeeded", "failed"]
    assert streak_of("failed", earlier).failures == 3
    assert streak_of("succeeded", ["failed", "failed"]).failures_before == 2
    assert streak_of("succeeded", []).failures_before == 0


def test_new_findings_alert_only_when_there_are_new_ones():
    assert triggered(profile(), "succeeded", recorded(new=2), streak_of("succeeded", [])) == {
        "new-findings"}
    assert triggered(profile(), "succeeded", recorded(unchanged=5), streak_of(
        "succeeded", [])) == set()
    assert triggered(profile("gone-findings"), "succeeded", recorded(gone=1),
                     streak_of("succeeded", [])) == {"gone-findings"}
    assert triggered(profile("every-run"), "succeeded", None, streak_of("succeeded", [])) == {
        "every-run"}


def test_failure_from_the_nth_failure_in_a_row_and_recovery_only_after_it():
    p = profile(after_failures=2)
    assert triggered(p, "failed", None, streak_of("failed", ["succeeded"])) == set()
    assert triggered(p, "failed", None, streak_of("failed", ["failed"])) == {"failure"}
    assert triggered(p, "timeout", None, streak_of("timeout", ["failed", "failed"])) == {
        "failure"}
    assert triggered(p, "succeeded", None, streak_of("succeeded", ["failed"])) == set()
    assert triggered(p, "succeeded", None, streak_of("succeeded", ["failed", "failed"])) == {
        "recovery"}
    assert triggered(p, "stopped", None, streak_of("stopped", ["failed", "failed"])) == set()


def test_the_message_names_job_state_counts_first_new_findings_and_execution():
    message = build_message("daily ports", "j1", "succeeded", "e" * 32,
                            frozenset({"new-findings"}), recorded(new=MAX_LISTED + 3, unchanged=4))
    assert message.title == f"Bots Scheduler: daily ports: {MAX_LISTED + 3} new findings"
    body = message.body
    assert "Job: daily ports (j1)" in body and "State: succeeded" in body
    assert f"Findings: {MAX_LISTED + 3} new, 0 changed, 0 gone, 4 unchanged" in body
    assert "- [high] open-port 192.0.2.0:22/tcp — SSH" in body
    assert "192.0.2.12:22/tcp" not in body and "… and 3 more" in body
    assert body.endswith("Execution: " + "e" * 32)


def test_a_failure_message_says_why():
    message = build_message("j", "j1", "failed", "e1", frozenset({"failure"}), None,
                            "Shodan: HTTP 401: invalid API key")
    assert message.title == "Bots Scheduler: j: run failed" and message.failure
    assert "Reason: Shodan: HTTP 401: invalid API key" in message.body
