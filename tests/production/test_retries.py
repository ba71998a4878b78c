"""Retries: each attempt is its own execution linked to the first; only the last one notifies."""
from __future__ import annotations

import time

import pytest

from tests.notifications.smtp_servers import SmtpServer, ini_section, make_self_signed, \
    profile_fields
from tests.production.conftest import executions_of, run_now


@pytest.fixture
def mail(workdir):
    server = SmtpServer("unencrypted", make_self_signed(workdir / "tls")).start()
    (workdir / "smtp.ini").write_text(ini_section("soc", profile_fields(server, None)))
    yield server
    server.stop()


def test_a_flaky_job_succeeds_on_its_second_attempt_with_one_notification(
        server, prod_jobs, mail):
    srv = server("--smtp-config", "smtp.ini", "--smtp-profile", "soc")
    job_id = srv.add_job("prodjobs.Flaky", "flaky", ["flaky.count", 1], hour="3",
                         retries=2, retry_delay=1)
    first = run_now(srv, job_id)
    srv.wait_for(lambda: [e for e in executions_of(srv, job_id) if e["state"] == "succeeded"],
                 what="a succeeded attempt")
    attempts = executions_of(srv, job_id)
    assert [(e["attempt"], e["state"]) for e in attempts] == [(1, "failed"), (2, "succeeded")]
    assert {e["first_execution_id"] for e in attempts} == {first}
    assert attempts[0]["execution_id"] == first
    messages = mail.wait_for(1)
    time.sleep(2)                        # a second message would have arrived by now
    assert len(mail.messages) == 1
    assert "succeeded on attempt 2" in messages[0].part("html")
    assert srv.get(f"/api/v1/executions/{first}").json()["notifications"] == []


def test_retries_stop_after_the_last_attempt(server, prod_jobs):
    srv = server()
    job_id = srv.add_job("prodjobs.Broken", "broken", [], hour="3", retries=1, retry_delay=0)
    run_now(srv, job_id)
    srv.wait_for(lambda: len([e for e in executions_of(srv, job_id)
                              if e["state"] == "failed"]) == 2, what="two failed attempts")
    time.sleep(2)
    assert [(e["attempt"], e["state"]) for e in executions_of(srv, job_id)] == \
        [(1, "failed"), (2, "failed")]


def test_a_timed_out_run_is_retried(server, prod_jobs):
    srv = server()
    job_id = srv.add_job("prodjobs.Polite", "slow", [60], hour="3", timeout=1, retries=1,
                         retry_delay=0)
    run_now(srv, job_id)
    srv.wait_for(lambda: len([e for e in executions_of(srv, job_id)
                              if e["state"] == "timeout"]) == 2, what="two timed-out attempts",
                 timeout=40)


def test_a_job_without_retries_runs_once(server, prod_jobs):
    srv = server()
    job_id = srv.add_job("prodjobs.Broken", "once", [], hour="3")
    srv.wait_execution(run_now(srv, job_id))
    time.sleep(1.5)
    assert len(executions_of(srv, job_id)) == 1
