"""Runs on Celery workers (``run --executor celery`` + ``bots-scheduler worker``) with the real
Redis and RabbitMQ brokers and a PostgreSQL or MariaDB datastore."""
from __future__ import annotations

import time

import pytest

from tests.cluster.conftest import cluster, executions_of, ledger_lines, wait_until
from tests.support.databases import fresh_database

FINAL = ("succeeded", "failed", "timeout", "stopped", "scheduled error")


@pytest.fixture(params=[("redis", "postgresql"), ("rabbitmq", "mysql")],
                ids=["redis-postgresql", "rabbitmq-mariadb"])
def celery_setup(request, workdir):
    """(broker URL, database arguments) of one broker and one database server."""
    broker_name, dbms = request.param
    broker = request.getfixturevalue(f"{broker_name}_broker")
    with fresh_database(dbms, workdir) as database:
        yield broker, database


def all_final(srv, job_id, count=None):
    executions = executions_of(srv, job_id)
    done = executions and all(e["state"] in FINAL for e in executions)
    return executions if done and (count is None or len(executions) >= count) else None


def test_two_workers_run_every_execution_exactly_once_with_its_report(
        server, worker, celery_setup, jobs_dir, ledger):
    broker, database = celery_setup
    srv = server(*database, "--executor", "celery", "--broker", broker)
    workers = {name: worker(name, "--broker", broker, *database)
               for name in ("worker-a", "worker-b")}
    job_id = srv.add_job("probe.Probe", "every second", [str(ledger), "0.2"],
                         second="*", minute="*")
    run_now = {srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
               for _ in range(8)}
    time.sleep(8)
    assert srv.api("PATCH", f"/api/v1/jobs/{job_id}").status_code == 200
    executions = wait_until(lambda: all_final(srv, job_id, len(run_now) + 5), 40,
                            what="every execution to end")

    assert {e["state"] for e in executions} == {"succeeded"}
    assert run_now <= {e["execution_id"] for e in executions}
    ran = ledger_lines(ledger)
    assert sorted(line[0] for line in ran) == sorted(e["execution_id"] for e in executions)
    hosts = {e["execution_id"]: (e["hostname"], e["pid"]) for e in executions}
    assert set(hosts.values()) == {(name, proc.pid) for name, proc in workers.items()}
    assert all(hosts[eid] == (host, int(pid)) for eid, host, pid in ran)
    fired = [e["scheduled_time"] for e in executions if e["execution_id"] not in run_now]
    assert len(fired) == len(set(fired)) >= 5
    for execution in executions:
        full = srv.get(f"/api/v1/executions/{execution['execution_id']}").json()
        assert full["task_id"] and "Probe report" in full["result"]
        assert full["execution_id"] in full["result"]     # the job's own Data
        assert full["started_time"] and full["finished_time"]
    assert {w["name"] for w in cluster(srv)["workers"] if w["alive"]} == set(workers)


def test_a_worker_killed_mid_run_leaves_its_execution_failed_not_running(
        server, worker, redis_broker, postgresql, jobs_dir, ledger):
    srv = server(*postgresql, "--executor", "celery", "--broker", redis_broker)
    lost = worker("worker-lost", "--broker", redis_broker, *postgresql)
    job_id = srv.add_job("probe.Probe", "long", [str(ledger), "300"], minute="0", hour="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    wait_until(lambda: srv.get(f"/api/v1/executions/{eid}").json()["state"] == "running", 30,
               what="the run to start")
    lost.kill()
    killed_at = time.monotonic()

    execution = srv.wait_execution(eid, timeout=40)
    assert time.monotonic() - killed_at < 30
    assert execution["state"] == "failed"
    assert execution["hostname"] == "worker-lost"
    assert "stopped unexpectedly" in execution["description"]
    assert "Interrupted" in execution["result"]

    # the interrupted run is not run again; the next one runs on a live worker
    worker("worker-next", "--broker", redis_broker, *postgresql)
    srv.api("PUT", f"/api/v1/jobs/{job_id}", json={"pub_args": [str(ledger), "0"]})
    second = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    assert srv.wait_execution(second, timeout=30)["hostname"] == "worker-next"
    assert [line[0] for line in ledger_lines(ledger)] == [eid, second]
    seen = {w["name"]: w["alive"] for w in cluster(srv)["workers"]}
    assert seen == {"worker-lost": False, "worker-next": True}


def test_notifications_are_sent_once_per_run_by_the_worker_that_ran_it(
        server, worker, redis_broker, jobs_dir, ledger, smtp_server, smtp_ini):
    mail = smtp_server("unencrypted")
    smtp_ini({"soc": mail})
    notify = ["--smtp-config", "smtp.ini", "--smtp-profile", "soc"]
    srv = server("--executor", "celery", "--broker", redis_broker, *notify)
    for name in ("worker-a", "worker-b"):
        worker(name, "--broker", redis_broker, *notify)
    job_id = srv.add_job("probe.Probe", "with data", [str(ledger), "0.2"], minute="0", hour="0")
    eids = {srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"] for _ in range(4)}
    for eid in eids:
        assert srv.wait_execution(eid)["state"] == "succeeded"
    mail.wait_for(4)
    time.sleep(3)      # a second message for any run would arrive by now
    sent = [m.message["X-Bots-Scheduler-Execution"] for m in mail.messages]
    assert sorted(sent) == sorted(eids)
    for eid in eids:
        notes = srv.get(f"/api/v1/executions/{eid}").json()["notifications"]
        assert [n["status"] for n in notes if n["profile"] == "soc"][-1:] == ["sent"]
