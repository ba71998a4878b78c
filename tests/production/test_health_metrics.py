"""/healthz and /metrics: health of the datastore and the scheduler; Prometheus metrics that
match what ran."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.notifications.smtp_servers import SmtpServer, ini_section, make_self_signed, \
    profile_fields
from tests.production.conftest import executions_of, run_now
from tests.support.databases import fresh_database, write_db_ini
from tests.support.forwarder import Forwarder


def scrape(srv) -> dict:
    """{(sample name, frozenset(labels)): value} of one scrape."""
    response = srv.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


def test_healthz_answers_ok_while_the_datastore_and_scheduler_work(server):
    srv = server()
    response = srv.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "datastore": "ok", "scheduler": "running"}


def test_healthz_answers_503_while_the_datastore_is_unreachable(server, workdir):
    with fresh_database("postgresql", workdir) as args:
        ini = (workdir / "conf" / "db.ini").read_text()
        forwarder = Forwarder(5432).start()
        write_db_ini(workdir, ini.replace("port = 5432", f"port = {forwarder.port}"))
        try:
            srv = server(*args)
            forwarder.cut()
            response = srv.get("/healthz")
            assert response.status_code == 503
            assert response.json()["datastore"] == "unreachable"
            assert "cannot reach the postgresql datastore" in response.json()["error"]
            forwarder.restore()
            srv.wait_for(lambda: srv.get("/healthz").status_code == 200, what="recovery")
            srv.stop()
        finally:
            forwarder.stop() if hasattr(forwarder, "stop") else forwarder.cut()


def test_metrics_count_what_ran(server, prod_jobs):
    srv = server()
    quick = srv.add_job("prodjobs.Quick", "quick", [], hour="3")
    broken = srv.add_job("prodjobs.Broken", "broken", [], hour="3")
    ticker = srv.add_job("prodjobs.Quick", "ticker", [], second="*/2", minute="*")
    for job_id in (quick, quick, broken):
        srv.wait_execution(run_now(srv, job_id))
    srv.wait_for(lambda: executions_of(srv, ticker), what="a scheduled run")
    srv.api("PATCH", f"/api/v1/jobs/{ticker}")
    srv.wait_for(lambda: all(e["state"] == "succeeded" for e in executions_of(srv, ticker)),
                 what="the ticker's runs to end")
    ticks = len(executions_of(srv, ticker))
    metrics = scrape(srv)
    assert value(metrics, "bots_scheduler_runs_total", job_id=quick, job_name="quick",
                 state="succeeded") == 2
    assert value(metrics, "bots_scheduler_runs_total", job_id=broken, job_name="broken",
                 state="failed") == 1
    assert value(metrics, "bots_scheduler_runs_total", job_id=ticker, job_name="ticker",
                 state="succeeded") == ticks
    assert value(metrics, "bots_scheduler_run_duration_seconds_count", job_id=quick) == 2
    assert value(metrics, "bots_scheduler_schedule_lag_seconds_count") == ticks + 3
    assert value(metrics, "bots_scheduler_jobs", state="active") == 2
    assert value(metrics, "bots_scheduler_jobs", state="paused") == 1
    assert value(metrics, "bots_scheduler_datastore_up") == 1
    assert value(metrics, "bots_scheduler_executions_running") == 0


def test_metrics_count_notifications_given_up(server, prod_jobs, workdir):
    # STARTTLS asked of a server that does not offer it: a permanent failure, no retries
    mail = SmtpServer("unencrypted", make_self_signed(workdir / "tls")).start()
    try:
        fields = {**profile_fields(mail, None), "security": "starttls"}
        (workdir / "smtp.ini").write_text(ini_section("soc", fields))
        srv = server("--smtp-config", "smtp.ini", "--smtp-profile", "soc")
        job_id = srv.add_job("prodjobs.Flaky", "notifying", ["n.count", 0], hour="3")
        eid = run_now(srv, job_id)
        srv.wait_for(lambda: [n for n in srv.get(f"/api/v1/executions/{eid}").json()
                              ["notifications"] if n["status"] == "failed"],
                     what="the failed notification")
        assert value(scrape(srv), "bots_scheduler_notification_failures_total",
                     profile="soc") == 1
    finally:
        mail.stop()


def test_metrics_come_from_the_servers_own_registry_not_the_global_one(server):
    text = server().get("/metrics").text
    assert "bots_scheduler_jobs" in text
    assert "python_gc_objects_collected_total" not in text     # the global registry's
