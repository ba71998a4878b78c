"""Alerts end to end: the real server with --alert-profile, the controlled findings job, a local
json:// receiver; bad configurations stop `run`; `alert-test`; no URL in answers or logs."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.findings.controlled import add_job, port, run_with, write_job

pytestmark = pytest.mark.integration     # starts bots-scheduler processes

TOKEN = "T0SECRET/B0SECRET/xoxTOKEN1234"


def cli(workdir, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "bots_scheduler", *args], cwd=workdir,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def wait_alerts(srv, eid):
    def final():
        entries = srv.get(f"/api/v1/executions/{eid}").json()["alerts"]
        return entries if entries and all(e["status"] in ("sent", "failed")
                                          for e in entries) else None
    return {e["profile"]: e for e in srv.wait_for(final, what=f"alerts of {eid}")}


def test_a_new_port_alerts_once_and_no_url_reaches_the_api_or_the_debug_log(
        server, workdir, receiver, alerts_ini):
    hook = receiver()
    write_job(workdir)
    path = alerts_ini({"slack": {"urls": hook.url(f"/{TOKEN}")}})
    srv = server("--debug", "--alert-config", str(path), "--alert-profile", "slack")
    job = add_job(srv, "daily shodan")
    first = run_with(srv, workdir, job, [port("192.0.2.1:22/tcp")])
    assert wait_alerts(srv, first["execution_id"])["slack"]["status"] == "sent"
    (got,) = hook.wait_for(1)
    assert got["body"]["title"] == "Bots Scheduler: daily shodan: 1 new finding"
    assert "192.0.2.1:22/tcp" in got["body"]["message"]
    assert first["execution_id"] in got["body"]["message"]

    same = run_with(srv, workdir, job, [port("192.0.2.1:22/tcp")])      # nothing new
    assert srv.get(f"/api/v1/executions/{same['execution_id']}").json()["alerts"] == []
    run_with(srv, workdir, job, [port("192.0.2.1:22/tcp"), port("192.0.2.1:8080/tcp")])
    assert len(hook.wait_for(2)) == 2

    answers = [srv.get(path).text for path in (
        "/api/v1/executions?result=true", f"/api/v1/executions/{first['execution_id']}",
        "/api/v1/jobs", "/api/v1/info", "/api/v1/findings")]
    for text in answers + [srv.stderr(), srv.stdout()]:
        assert "B0SECRET" not in text and "xoxTOKEN1234" not in text
    assert "DEBUG" in srv.stderr()            # --debug was on


def test_a_bad_alert_configuration_ends_run_with_one_line_and_exit_2(workdir, alerts_ini,
                                                                      receiver):
    cases = [({"a": {"urls": "json://127.0.0.1:1/x", "events": "new-findings, explode"}},
              ["--alert-profile", "a"], "unknown event 'explode'"),
             ({"a": {"urls": "bogus://tok-xyz"}}, [], "is not a URL Apprise can use"),
             ({"a": {"urls": "json://127.0.0.1:1/x"}}, ["--alert-profile", "b"],
              "no profile 'b'")]
    for profiles, extra, message in cases:
        path = alerts_ini(profiles)
        result = cli(workdir, "run", "--local", "--alert-config", str(path), *extra)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr
        assert "tok-xyz" not in result.stderr


def test_alert_test_sends_through_every_url_of_a_profile(workdir, receiver, alerts_ini,
                                                         refused_url):
    hook = receiver()
    path = alerts_ini({"ops": {"urls": hook.url("/hook-tok")}, "half": {
        "urls": f"{hook.url('/hook-tok')} {refused_url}"}})
    ok = cli(workdir, "alert-test", "ops", "--alert-config", str(path))
    assert ok.returncode == 0, ok.stderr
    assert "alert-test: profile ops: url 1 (JSON): sent" in ok.stdout
    (got,) = hook.wait_for(1)
    assert got["body"]["title"] == "Bots Scheduler: alert test of profile ops"
    half = cli(workdir, "alert-test", "half", "--alert-config", str(path))
    assert half.returncode == 1 and "url 2 (JSON): not sent" in half.stdout
    assert "hook-tok" not in half.stdout + half.stderr + ok.stdout + ok.stderr
    missing = cli(workdir, "alert-test", "nope", "--alert-config", str(path))
    assert missing.returncode == 2 and "no profile 'nope'" in missing.stderr


def test_a_jobs_alert_profiles_field_is_checked_and_kept(server, workdir):
    write_job(workdir)
    srv = server()
    job = add_job(srv, alert_profiles=["ops", "ops", " team "])
    assert srv.get(f"/api/v1/jobs/{job}").json()["alert_profiles"] == ["ops", "team"]
    for bad in ("ops", [1], [""], ["x"] * 21):
        response = srv.post("/api/v1/jobs", json={"job_class_string": "controlled.Controlled",
                                                  "name": "n", "alert_profiles": bad})
        assert response.status_code == 400 and "alert_profiles" in response.json()["error"]
    assert json.loads(srv.get("/api/v1/export").text)["jobs"][0]["alert_profiles"] == [
        "ops", "team"]


def test_reset_writes_an_alert_config_that_run_accepts(workdir):
    done = cli(workdir, "reset", "-y")
    assert done.returncode == 0, done.stderr
    text = (workdir / "conf" / "alerts.ini").read_text()
    assert "[example]" in text and "events" in text
    from bots_scheduler.alerts.profiles import load_alert_config
    assert load_alert_config(workdir / "conf" / "alerts.ini", ["example"]).get("example")


def test_a_url_can_come_from_a_secret_and_never_shows(server, workdir, receiver, alerts_ini):
    hook = receiver()
    write_job(workdir)
    path = alerts_ini({"vault": {"urls": "secret:hook-url secret:missing", "events": "every-run"}})
    srv = server("--alert-config", str(path), "--alert-profile", "vault")
    assert "url 2 (secret missing)" in srv.stderr()         # said at start, not fatal
    created = srv.post("/api/v1/secrets", json={"name": "hook-url",
                                                "value": hook.url("/sekret-path")})
    assert created.status_code == 201, created.text
    job = add_job(srv)
    execution = run_with(srv, workdir, job, [port("192.0.2.1:22/tcp")])
    entry = wait_alerts(srv, execution["execution_id"])["vault"]
    assert entry["status"] == "failed"                      # the missing one
    assert "sent to 1 of 2 URL(s)" in entry["message"]
    assert "url 2 (secret missing): secret 'missing'" in entry["message"]
    assert len(hook.wait_for(1)) == 1
    assert 'bots_scheduler_alert_failures_total{profile="vault"} 1.0' in \
        srv.get("/metrics").text
    assert "sekret-path" not in srv.get(f"/api/v1/executions/{execution['execution_id']}").text
    assert "sekret-path" not in srv.stderr()
    tested = cli(workdir, "alert-test", "vault", "--alert-config", str(path))
    assert tested.returncode == 1 and "url 1 (secret hook-url) (JSON): sent" in tested.stdout
    assert "sekret-path" not in tested.stdout + tested.stderr
