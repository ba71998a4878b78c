"""A database that goes away while the server runs yields 503s, not a crash, and the server
recovers by itself when it comes back."""
from __future__ import annotations

import pytest

from tests.support.databases import fresh_database, write_db_ini
from tests.support.forwarder import Forwarder

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
REAL_PORTS = {"postgresql": 5432, "mysql": 3306}


@pytest.mark.parametrize("dbms", ["postgresql", "mysql"])
def test_a_lost_database_gives_503_then_recovers(server, workdir, dbms):
    with fresh_database(dbms, workdir) as args:
        ini = (workdir / "conf" / "db.ini").read_text()
        forwarder = Forwarder(REAL_PORTS[dbms]).start()
        write_db_ini(workdir, ini.replace(f"port = {REAL_PORTS[dbms]}",
                                          f"port = {forwarder.port}"))
        try:
            srv = server(*args)
            job_id = srv.add_job(HELLO, "survivor", minute="0", hour="0")
            forwarder.cut()
            for path in ("/api/v1/executions", "/api/v1/logs"):
                r = srv.get(path)
                assert r.status_code == 503, (path, r.status_code, r.text)
                assert "unavailable" in r.json()["error"]
            for path in ("/api/v1/jobs", f"/api/v1/jobs/{job_id}"):
                # the job list may be answered from memory; never a 500
                assert srv.get(path).status_code in (200, 503)
            r = srv.post("/api/v1/jobs", json={"job_class_string": HELLO, "name": "later"})
            assert r.status_code == 503
            assert srv.proc.poll() is None, "the server must keep running"
            forwarder.restore()
            srv.wait_for(lambda: srv.get("/api/v1/jobs").status_code == 200, timeout=30,
                         what="recovery")
            jobs = srv.get("/api/v1/jobs").json()["jobs"]
            assert [j["name"] for j in jobs] == ["survivor"]
            eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
            assert srv.wait_execution(eid)["state"] == "succeeded"
            # the scheduler itself survived: a job added now fires on its schedule
            ticker = srv.add_job(HELLO, "ticker", second="*/1")
            srv.wait_for(lambda: srv.get("/api/v1/executions",
                                         params={"job_id": ticker}).json()["executions"],
                         timeout=30, what="a scheduled run after the outage")
            assert "Traceback" not in srv.stderr() or "OperationalError" in srv.stderr()
        finally:
            forwarder.cut()
