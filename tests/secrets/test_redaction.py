"""CONTRACT §7: a secret's value appears nowhere. A job that prints, logs, reports, returns as
data and raises with the value runs (run now and scheduled), and then every API answer, the
audit log, the e-mail received by a real SMTP server (aiosmtpd), the export, /metrics, the
server's log files and the database (SQLite with its WAL, or every table of PostgreSQL and
MariaDB) are searched for it. On SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.support.databases import MY, PG

pytestmark = pytest.mark.integration

VALUE = "Sup3r-S3cret-Value-7731"
PLAIN = "Legacy-Plain-Key-5519"
SHELL = "bots_scheduler.jobs.builtin.shell.ShellCommand"
JOBS = textwrap.dedent('''
    import logging
    from bots_scheduler import *

    class Leaky(JobBase):
        info = {"job_class_name": "Leaky", "report_title": "Leaky",
                "arguments": [{"type": "secret", "description": "API key"}]}

        @report
        def run(self, key, **kwargs):
            print("printed " + key)
            logging.getLogger("leaky").warning("logged %s", key)
            self._data = {"key": key, "nested": ["x" + key]}
            return (Section("Leak " + key), Text("text " + key), Code(key),
                    Table([[key, 1]], ["k", "n"]), Data({"k": key}))

    class Raiser(JobBase):
        info = {"job_class_name": "Raiser",
                "arguments": [{"type": "secret", "description": "API key"}]}

        def run(self, key, **kwargs):
            raise RuntimeError("refused with " + key)
''')


def database_bytes(database, workdir, running: bool = False) -> bytes:
    if database[1] == "sqlite":
        files = sorted((workdir / "data").glob("datastore.db*"))
        if running:     # the WAL exists while the server runs (it is merged at stop)
            assert any(f.name.endswith("-wal") for f in files), files
        return b"".join(path.read_bytes() for path in files)
    name = (workdir / "conf" / "db.ini").read_text().split("database = ")[1].split()[0]
    out = []
    if database[1] == "postgresql":
        import psycopg
        with psycopg.connect(**PG, dbname=name) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            for table in tables:
                out += [repr(row) for row in conn.execute(f'SELECT * FROM "{table}"')]
    else:
        import pymysql
        conn = pymysql.connect(**MY, database=name)
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            for (table,) in cur.fetchall():
                cur.execute(f"SELECT * FROM `{table}`")
                out += [repr(row) for row in cur.fetchall()]
        conn.close()
    assert len(out) > 10
    return "\n".join(out).encode()


def test_a_secret_value_is_found_nowhere(server, database, workdir, smtp_server, smtp_ini):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "leaky.py").write_text(JOBS)
    mail = smtp_server("unencrypted")
    smtp_ini({"soc": mail})
    srv = server(*database, "--smtp-config", str(workdir / "smtp.ini"), "--smtp-profile", "soc")
    assert srv.post("/api/v1/secrets", json={"name": "leak-key", "value": VALUE}
                    ).status_code == 201
    ref = {"secret": "leak-key"}
    leaky = srv.add_job("leaky.Leaky", "leaky", [ref], second="*/2")
    raiser = srv.add_job("leaky.Raiser", "raiser", [ref], minute="0")
    shell = srv.add_job(SHELL, "shell", ["echo", ref], minute="0")
    plain = srv.add_job("leaky.Leaky", "plain leaky", [PLAIN], minute="0")
    runs = {}
    for name, job_id in (("leaky", leaky), ("raiser", raiser), ("shell", shell),
                         ("plain", plain)):
        eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
        runs[name] = srv.wait_execution(eid)
    assert runs["leaky"]["state"] == "succeeded", runs["leaky"]["result"]
    assert "[secret:leak-key]" in runs["leaky"]["result"]
    assert runs["raiser"]["state"] == "failed"
    assert "[secret:leak-key]" in runs["raiser"]["description"]
    assert "[secret:leak-key]" in runs["shell"]["result"]
    # a scheduled run too (every 2 seconds)
    srv.wait_for(lambda: [e for e in srv.get(f"/api/v1/executions?job_id={leaky}").json()
                          ["executions"] if e["description"] == "" and e["state"] ==
                          "succeeded" and not e.get("attempt", 1) > 1] and
                 len(srv.get(f"/api/v1/executions?job_id={leaky}").json()["executions"]) >= 2,
                 what="a scheduled run")
    messages = mail.wait_for(2)
    # every GET of the API
    answers = []
    document = srv.get("/api/v1/openapi.json").json()
    executions = srv.get("/api/v1/executions?limit=5000").json()["executions"]
    ids = {"job_id": [leaky, raiser, shell, plain], "id": [e["execution_id"] for e in executions],
           "path": ["x"], "name": ["leak-key"]}
    for path, operations in document["paths"].items():
        if "get" not in operations or path.startswith("/static"):
            continue
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        if names and names[0] not in ids:
            continue
        for value in ids[names[0]] if names else [None]:
            concrete = path.replace("{" + names[0] + "}", value) if names else path
            answer = srv.get(concrete)
            answers.append(f"{concrete} {answer.status_code} {answer.text}")
    answers.append(srv.get("/api/v1/logs?limit=5000").text)
    answers.append(srv.get("/api/v1/export").text)
    answers.append(srv.get("/metrics").text)
    export = subprocess.run([sys.executable, "-m", "bots_scheduler", "export", "-j", "jobs",
                             *database], cwd=workdir, capture_output=True, text=True,
                            timeout=60)
    assert export.returncode == 0, export.stderr
    answers.append(export.stdout)
    text = "\n".join(answers)
    assert '"secret": "leak-key"' in text or '"secret":"leak-key"' in text
    for value in (VALUE, PLAIN):
        assert value not in text, [a[:200] for a in answers if value in a]
    for message in messages:
        raw = message.message.as_bytes()
        assert VALUE.encode() not in raw and PLAIN.encode() not in raw
    assert any(b"[secret:leak-key]" in m.message.as_bytes() for m in messages)
    while_running = database_bytes(database, workdir, running=True)
    srv.stop()
    logs = srv.stdout() + srv.stderr()
    assert "logged" in logs and VALUE not in logs and PLAIN not in logs
    assert "[secret:leak-key]" in logs
    stored = while_running + database_bytes(database, workdir)
    assert VALUE.encode() not in stored
    assert json.dumps(VALUE).encode() not in stored
