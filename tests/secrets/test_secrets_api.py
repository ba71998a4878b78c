"""CONTRACT §7: the secrets API, references in job arguments, masking of secret-typed plain
values, and the key at start, on every datastore."""
from __future__ import annotations

import hashlib
import stat
import subprocess
import sys


from tests.secrets.jobmodule import KEYED, write_jobs
from tests.support.databases import MY, PG

HIBP = "bots_scheduler.jobs.builtin.hibp.HaveIBeenPwnedJob"
MASK = "********"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def stored_cells(database, workdir) -> bytes:
    """Every byte the datastore holds: the SQLite files (WAL included), or a dump of the
    PostgreSQL/MariaDB database's secrets, jobs, executions and audit tables."""
    if database[1] == "sqlite":
        return b"".join(path.read_bytes() for path in (workdir / "data").glob("datastore.db*"))
    name = (workdir / "conf" / "db.ini").read_text().split("database = ")[1].split()[0]
    tables = ("scheduler_jobs_secrets", "scheduler_jobs", "scheduler_execution",
              "scheduler_jobauditlog")
    out = []
    if database[1] == "postgresql":
        import psycopg
        with psycopg.connect(**PG, dbname=name) as conn:
            for table in tables:
                out += [repr(row).encode() for row in conn.execute(f'SELECT * FROM "{table}"')]
    else:
        import pymysql
        conn = pymysql.connect(**MY, database=name)
        with conn.cursor() as cur:
            for table in tables:
                cur.execute(f"SELECT * FROM `{table}`")
                out += [repr(row).encode() for row in cur.fetchall()]
        conn.close()
    return b"\n".join(out)


def test_secrets_crud_and_rules(server, database, workdir):
    srv = server(*database)
    assert srv.get("/api/v1/secrets").json() == {"secrets": []}
    r = srv.post("/api/v1/secrets", json={"name": "shodan.key-1", "value": "v4lue-one"})
    assert r.status_code == 201 and r.json() == {"name": "shodan.key-1"}
    assert srv.post("/api/v1/secrets", json={"name": "shodan.key-1", "value": "x"}
                    ).status_code == 409
    listed = srv.get("/api/v1/secrets").json()["secrets"]
    assert [s["name"] for s in listed] == ["shodan.key-1"]
    assert set(listed[0]) >= {"name", "created_time", "updated_time", "used_by"}
    assert "v4lue-one" not in srv.get("/api/v1/secrets").text
    r = srv.api("PUT", "/api/v1/secrets/shodan.key-1", json={"value": "v4lue-two"})
    assert r.status_code == 200 and r.json() == {"name": "shodan.key-1"}
    assert srv.api("PUT", "/api/v1/secrets/nope", json={"value": "x"}).status_code == 404
    for bad in ("", "a b", "x" * 65, "é", "a/b", None, 5, ["a"]):
        r = srv.post("/api/v1/secrets", json={"name": bad, "value": "v"})
        assert r.status_code == 400 and "error" in r.json(), bad
    for bad in ("", None, 7, {"a": 1}):
        r = srv.post("/api/v1/secrets", json={"name": "ok", "value": bad})
        assert r.status_code == 400 and "error" in r.json(), bad
    assert srv.api("PUT", "/api/v1/secrets/a%20b", json={"value": "x"}).status_code == 400
    assert srv.api("PUT", "/api/v1/secrets/" + "y" * 65, json={"value": "x"}).status_code == 400
    assert srv.api("DELETE", "/api/v1/secrets/nope").status_code == 404
    assert srv.post("/api/v1/secrets", data=b"{not json",
                    headers={"Content-Type": "application/json"}).status_code == 400
    assert srv.api("DELETE", "/api/v1/secrets/shodan.key-1").json() == {"name": "shodan.key-1"}
    assert srv.get("/api/v1/secrets").json() == {"secrets": []}
    assert not re_500(srv)
    assert b"v4lue-one" not in stored_cells(database, workdir)
    assert b"v4lue-two" not in stored_cells(database, workdir)


def re_500(srv) -> bool:
    import re
    return bool(re.search(r"bots_scheduler\.access: 5\d\d ", srv.stderr()))


def test_references_are_checked_resolved_at_run_time_and_block_deletion(server, database,
                                                                        workdir):
    srv = server(*database, *write_jobs(workdir))
    bad = srv.post("/api/v1/jobs", json={"job_class_string": KEYED, "name": "k",
                                         "pub_args": [{"secret": "missing"}, "l"]})
    assert bad.status_code == 400 and "missing" in bad.json()["error"]
    bad = srv.post("/api/v1/jobs", json={"job_class_string": KEYED, "name": "k",
                                         "pub_args": [{"secret": "bad name"}, "l"]})
    assert bad.status_code == 400
    srv.post("/api/v1/secrets", json={"name": "api", "value": "s3cr3t-api-value"})
    job_id = srv.add_job(KEYED, "keyed", [{"secret": "api"}, "lbl"], minute="0")
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    assert job["pub_args"] == [{"secret": "api"}, "lbl"]
    assert srv.get("/api/v1/secrets").json()["secrets"][0]["used_by"] == [job_id]
    r = srv.api("PUT", f"/api/v1/jobs/{job_id}", json={"pub_args": [{"secret": "other"}, "l"]})
    assert r.status_code == 400
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    run = srv.wait_execution(eid)
    assert run["state"] == "succeeded", run["result"]
    assert sha("s3cr3t-api-value") in run["result"]
    refused = srv.api("DELETE", "/api/v1/secrets/api")
    assert refused.status_code == 409 and job_id in refused.json()["error"]
    assert srv.api("DELETE", "/api/v1/secrets/api?force=1").status_code == 200
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    run = srv.wait_execution(eid)
    assert run["state"] == "failed" and "&#x27;api&#x27;" in run["result"] and \
        "no longer exist" in run["result"]
    assert not re_500(srv)


def test_plain_values_in_secret_arguments_are_masked_and_a_mask_sent_back_keeps_them(
        server, database, workdir):
    srv = server(*database, *write_jobs(workdir))
    job_id = srv.add_job(KEYED, "plain", ["plain-key-123456", "first"], minute="0")
    hibp_id = srv.add_job(HIBP, "hibp", ["hibp-key-987654", "emails.txt"], minute="0")
    assert srv.get(f"/api/v1/jobs/{job_id}").json()["pub_args"] == [MASK, "first"]
    assert srv.get(f"/api/v1/jobs/{hibp_id}").json()["pub_args"] == [MASK, "emails.txt"]
    # a PUT that sends the job back as shown keeps the value
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    r = srv.api("PUT", f"/api/v1/jobs/{job_id}", json={**job, "pub_args": [MASK, "second"]})
    assert r.status_code == 200, r.text
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    run = srv.wait_execution(eid)
    assert sha("plain-key-123456") in run["result"] and "label second" in run["result"]
    assert run["job"]["pub_args"] == [MASK, "second"]
    # a new value behind the mask is audited without being shown
    r = srv.api("PUT", f"/api/v1/jobs/{job_id}", json={"pub_args": ["rotated-key-55555",
                                                                     "second"]})
    assert r.status_code == 200
    # a mask where nothing is stored cannot be saved
    r = srv.post("/api/v1/jobs", json={"job_class_string": KEYED, "name": "m",
                                       "pub_args": [MASK, "x"]})
    assert r.status_code == 400 and "mask" in r.json()["error"]
    export = srv.get("/api/v1/export")
    everything = " ".join([srv.get("/api/v1/jobs").text, export.text,
                           srv.get("/api/v1/logs").text,
                           srv.get(f"/api/v1/executions/{eid}").text,
                           srv.get("/api/v1/executions").text])
    for value in ("plain-key-123456", "hibp-key-987654", "rotated-key-55555"):
        assert value not in everything
    logs = srv.get("/api/v1/logs").json()["logs"]
    assert any("a secret-typed value changed" in entry["description"] for entry in logs)
    # importing the export (masks and all) changes nothing and keeps the values
    result = srv.post("/api/v1/import", json=export.json()).json()
    assert (result["added"], result["modified"]) == (0, 0), result
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    assert sha("rotated-key-55555") in srv.wait_execution(eid)["result"]
    # the job class declares which arguments are secret
    classes = {c["job_class_string"]: c for c in srv.get("/api/v1/jobclasses").json()
               ["job_classes"]}
    assert classes[HIBP]["info"]["arguments"][0]["type"] == "secret"
    assert classes[KEYED]["info"]["arguments"][0]["type"] == "secret"


def test_import_checks_references(server, database, workdir):
    srv = server(*database, *write_jobs(workdir))
    document = {"format": "bots-scheduler-jobs", "version": 1, "jobs": [
        {"job_id": "j1", "name": "n", "job_class_string": KEYED,
         "pub_args": [{"secret": "absent"}, "x"]}]}
    r = srv.post("/api/v1/import", json=document)
    assert r.status_code == 400 and "absent" in r.json()["error"]
    document["jobs"][0]["pub_args"] = [MASK, "x"]
    assert srv.post("/api/v1/import", json=document).status_code == 400
    assert srv.get("/api/v1/jobs").json()["jobs"] == []


def test_the_key_file_is_made_0600_and_a_missing_or_wrong_key_stops_the_start(
        server, database, workdir):
    srv = server(*database)
    srv.post("/api/v1/secrets", json={"name": "k", "value": "value-of-k"})
    key = workdir / "conf" / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    srv.stop()
    key.rename(workdir / "conf" / "kept.key")
    before = stored_cells(database, workdir) if database[1] != "sqlite" else None
    for attempt in ("missing", "wrong"):
        if attempt == "wrong":
            key.write_text("A" * 43 + "=\n")
        result = subprocess.run([sys.executable, "-m", "bots_scheduler", "run", "--local",
                                 "-p", str(srv.port), *database], cwd=workdir,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "secret" in lines[0] and "Traceback" not in result.stderr
    if before is not None:
        assert stored_cells(database, workdir) == before
    # the environment variable is a key source too
    env_key = (workdir / "conf" / "kept.key").read_text().strip()
    key.unlink()
    again = server(*database, env={"BOTS_SCHEDULER_SECRET_KEY": env_key})
    assert [s["name"] for s in again.get("/api/v1/secrets").json()["secrets"]] == ["k"]


def test_cli_set_list_delete_and_adopt(server, database, workdir):
    base = [sys.executable, "-m", "bots_scheduler"]

    def cli(*args, value=None):
        return subprocess.run([*base, *args, *database], cwd=workdir, input=value,
                              capture_output=True, text=True, timeout=60)

    r = cli("secret", "set", "cli.key", value="from-stdin-value\n")
    assert r.returncode == 0, r.stderr
    assert "cli.key" in cli("secret", "list").stdout
    r = cli("secret", "set", "bad name", value="x")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = cli("secret", "delete", "nope")
    assert r.returncode == 2 and "nope" in r.stderr
    srv = server(*database, *write_jobs(workdir))
    # the value is read as given, without the final line end
    job_id = srv.add_job(KEYED, "uses", [{"secret": "cli.key"}, "x"], minute="0")
    run = srv.wait_execution(srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"])
    assert sha("from-stdin-value") in run["result"]
    plain = srv.add_job(KEYED, "plain-a", ["legacy-key-111", "a"], minute="0")
    plain_b = srv.add_job(KEYED, "plain-b", ["legacy-key-111", "b"], minute="0")
    srv.stop()
    r = cli("secret", "delete", "cli.key", "-j", "jobs") if False else cli("secret", "delete",
                                                                           "cli.key")
    assert r.returncode == 2 and job_id in r.stderr
    dry = cli("secret", "adopt", "--dry-run", "-j", "jobs")
    assert dry.returncode == 0 and "API_key" in dry.stdout and "nothing changed" in dry.stdout
    r = cli("secret", "adopt", "-j", "jobs")
    assert r.returncode == 0, r.stderr
    assert "2 plain value(s) in 2 job(s)" in r.stdout
    srv = server(*database, *write_jobs(workdir))
    for jid in (plain, plain_b):
        assert srv.get(f"/api/v1/jobs/{jid}").json()["pub_args"][0] == {"secret": "API_key"}
    run = srv.wait_execution(srv.post(f"/api/v1/executions/{plain}").json()["execution_id"])
    assert sha("legacy-key-111") in run["result"]
    assert cli("secret", "delete", "cli.key", "--force").returncode == 0
