"""REST API benchmark of a scheduler speaking the ndscheduler API (Bots Scheduler or ndscheduler).

One run, in this order, against one fresh server:
  1. job creation: --jobs jobs (default 1,000) POSTed by --clients concurrent clients (default 8)
  2. job list latency at 1,000 jobs (p50/p95 of --samples sequential GET /api/v1/jobs)
  3. run-now burst: --runs POST /api/v1/executions/{job_id} (default 300, distinct jobs, same
     clients); the time until that many runs have *succeeded* (the execution list is polled
     every 0.1 s once every request has been answered; 5xx answers are retried and counted)
  4. audit-log list and execution list latency (small tables: ~1,300 entries, ~300 executions)
  5. more jobs up to --big-jobs (default 10,000), then the job list latency again
  6. setup step: --executions rows (default 100,000) inserted *directly* into the server's
     SQLite executions table with SQLAlchemy (spread over the last 100 days, each pointing at
     one of the jobs), then the execution list latency over the last 24 hours
  7. peak memory (VmHWM) of the server process, if its pid is known

Every list call asks for the same rows on both servers (ndscheduler does not page, so Bots
Scheduler is asked with limit=5000); Bots Scheduler's default first page is measured as well.

    .venv/bin/python bench/api_bench.py --base http://127.0.0.1:8889 --server-pid PID \\
        --db DATA_DIR/datastore.db --json ours.json
    .venv/bin/python bench/api_bench.py --compare ours.json theirs.json

Figures only; no pass/fail exit status (see bench/README.md).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

OUR_CLASS = "bots_scheduler.jobs.builtin.sample.HelloJob"
ND_CLASS = "simple_scheduler.jobs.sample_job.AwesomeJob"
# fires once a year at 03:17 on 1 January: nothing runs on its own during a benchmark
QUIET_CRON = {"month": "1", "day": "1", "hour": "3", "minute": "17", "day_of_week": "*"}


# -- HTTP ----------------------------------------------------------------------------------------

SERVER_ERRORS = {"count": 0}   # 5xx answers retried (ndscheduler's "database is locked")
_ERRORS_LOCK = threading.Lock()
RETRIES = 20


class Client:
    """One keep-alive HTTP connection (one per client thread, like a browser tab or a script)."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.conn = None

    def call(self, method: str, path: str, body=None, expect=(200, 201)):
        """The decoded answer; a 5xx is retried (a script would), and counted."""
        for attempt in range(RETRIES + 1):
            try:
                return self._call(method, path, body, expect)
            except ServerError:
                with _ERRORS_LOCK:
                    SERVER_ERRORS["count"] += 1
                if attempt == RETRIES:
                    raise
                time.sleep(min(1.0, 0.05 * (attempt + 1)))

    def _call(self, method, path, body, expect):
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            if response.status >= 500:
                raise ServerError(f"{method} {path}: HTTP {response.status}: {data[:200]!r}")
            if response.status not in expect:
                raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
            return json.loads(data) if data else None


class ServerError(RuntimeError):
    pass


def in_parallel(base: str, clients: int, tasks: list, work) -> float:
    """Run ``work(client, task)`` for every task on ``clients`` threads; return the seconds."""
    todo: queue.Queue = queue.Queue()
    for task in tasks:
        todo.put(task)
    errors: list[BaseException] = []

    def worker():
        client = Client(base)
        while not errors:
            try:
                task = todo.get_nowait()
            except queue.Empty:
                return
            try:
                work(client, task)
            except BaseException as exc:   # reported after the other threads stop
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def latency(client: Client, path: str, samples: int) -> dict:
    client.call("GET", path)   # warm-up, not counted
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        body = client.call("GET", path)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    rows = next((len(v) for v in body.values() if isinstance(v, list)), 0)
    return {"p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], 2),
            "rows": rows, "samples": samples}


# -- the two flavours --------------------------------------------------------------------------

class Flavour:
    name = ""
    job_class = ""

    def job_body(self, number: int) -> dict:
        return {"job_class_string": self.job_class, "name": f"bench job {number:05d}",
                "pub_args": self.pub_args(number), **QUIET_CRON}

    def pub_args(self, number):
        return []

    def all_rows(self, params: dict) -> dict:
        return params

    def count_succeeded(self, client: Client, since: datetime) -> int:
        raise NotImplementedError

    def insert_executions(self, engine, jobs: list[dict], count: int, days: int) -> None:
        raise NotImplementedError


class Ours(Flavour):
    name = "Bots Scheduler"
    job_class = OUR_CLASS

    def pub_args(self, number):
        return [f"client {number}", 0]

    def all_rows(self, params):
        return {**params, "limit": 5000}

    def count_succeeded(self, client, since):
        body = client.call("GET", "/api/v1/executions?" + urlencode(
            {"time_range_start": since.isoformat(), "state": "succeeded", "limit": 1}))
        return body["total"]

    def insert_executions(self, engine, jobs, count, days):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from sqlalchemy import insert
        from bots_scheduler.datastore.tables import make_tables
        table = make_tables("scheduler_execution", "scheduler_jobauditlog",
                            "scheduler_files").executions
        with engine.begin() as conn:
            for chunk in _chunks(_execution_rows(jobs, count, days), 5000):
                conn.execute(insert(table), [{
                    "eid": eid, "job_id": job["job_id"],
                    "job_class_string": job["job_class_string"], "job": json.dumps(job),
                    "state": "succeeded", "hostname": "bench", "pid": 1,
                    "scheduled_time": moment, "started_time": moment,
                    "finished_time": moment + timedelta(seconds=1),
                    "updated_time": moment + timedelta(seconds=1), "description": "",
                    "result": REPORT, "task_id": None} for eid, job, moment in chunk])


class Theirs(Flavour):
    name = "ndscheduler 0.3.0"
    job_class = ND_CLASS

    def pub_args(self, number):
        return [f"client {number}", "b"]

    def count_succeeded(self, client, since):
        body = client.call("GET", "/api/v1/executions?" + urlencode(
            {"time_range_start": _naive(since), "time_range_end": _naive(_now())}))
        return sum(1 for e in body["executions"] if e["state"] == "succeeded")

    def insert_executions(self, engine, jobs, count, days):
        # ndscheduler 0.3.0's table (ndscheduler/core/datastore/tables.py): state is an integer
        # (5 = succeeded); SQLite times are text that its reader parses as '%Y-%m-%d %H:%M:%S.%f'
        from sqlalchemy import text
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        sql = text("INSERT INTO scheduler_execution (eid, hostname, pid, state, scheduled_time, "
                   "updated_time, description, result, job_id, task_id) VALUES (:eid, 'bench', "
                   "1, 5, :scheduled, :updated, '', :result, :job_id, NULL)")
        with engine.begin() as conn:
            for chunk in _chunks(_execution_rows(jobs, count, days), 5000):
                conn.execute(sql, [{
                    "eid": eid, "job_id": job["job_id"], "result": REPORT,
                    "scheduled": moment.strftime(fmt),
                    "updated": (moment + timedelta(seconds=1)).strftime(fmt)}
                    for eid, job, moment in chunk])


REPORT = ("<!doctype html><html><head><meta charset='utf-8'><title>Hello</title></head><body>"
          "<h1>Hello</h1><section><h2>Greeting</h2><p>Hello, client!</p></section>"
          "<section><h2>Run</h2><table><tr><td>host</td><td>bench</td></tr>"
          "<tr><td>waited (s)</td><td>0</td></tr></table></section></body></html>")


def _execution_rows(jobs, count, days):
    now = _now().replace(tzinfo=None)
    step = timedelta(days=days) / count
    for index in range(count):
        yield uuid.uuid4().hex, jobs[index % len(jobs)], now - step * (index + 1)


def _chunks(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _naive(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat()


def detect(base: str) -> Flavour:
    try:
        Client(base).call("GET", "/api/v1/jobclasses")
        return Ours()
    except RuntimeError:
        return Theirs()


def memory(pid) -> dict:
    if not pid:
        return {}
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {key: round(int(values[key].split()[0]) / 1024, 1) for key in ("VmHWM", "VmRSS")}


# -- the run -------------------------------------------------------------------------------------

def run(args) -> dict:
    flavour = {"bots": Ours, "ndscheduler": Theirs}.get(args.flavour) or detect(args.base)
    flavour = flavour() if isinstance(flavour, type) else flavour
    out = {"server": flavour.name, "base": args.base, "clients": args.clients,
           "run_clients": args.run_clients or args.clients}
    say = lambda text: print(f"[{flavour.name}] {text}", file=sys.stderr, flush=True)  # noqa: E731
    client = Client(args.base)
    job_ids: list[str] = []
    lock = threading.Lock()

    def create(c, number):
        body = c.call("POST", "/api/v1/jobs", flavour.job_body(number))
        with lock:
            job_ids.append(body["job_id"])

    seconds = in_parallel(args.base, args.clients, list(range(args.jobs)), create)
    out["create_jobs_per_s"] = round(args.jobs / seconds, 1)
    out["create_server_errors"] = SERVER_ERRORS["count"]
    say(f"created {args.jobs} jobs in {seconds:.2f} s: {out['create_jobs_per_s']} jobs/s")

    out["job_list_1k"] = latency(client, "/api/v1/jobs", args.samples)
    say(f"job list at {args.jobs} jobs: {out['job_list_1k']}")

    since = _now() - timedelta(seconds=1)
    targets = job_ids[:args.runs]
    errors_before = SERVER_ERRORS["count"]
    started = time.perf_counter()
    posted = in_parallel(args.base, args.run_clients or args.clients, targets,
                         lambda c, job_id: c.call("POST", f"/api/v1/executions/{job_id}"))
    # polled once every request has been answered: ndscheduler 0.3.0 fails ("database is
    # locked", closed connections) when its executions are read while runs are being posted
    watcher = Client(args.base)
    deadline = started + args.run_timeout
    while flavour.count_succeeded(watcher, since) < len(targets):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{len(targets)} runs did not all succeed within "
                               f"{args.run_timeout} s")
        time.sleep(0.1)
    burst = time.perf_counter() - started
    out["run_now"] = {"runs": len(targets), "seconds": round(burst, 2),
                      "runs_per_s": round(len(targets) / burst, 1),
                      "requests_s": round(posted, 2),
                      "server_errors": SERVER_ERRORS["count"] - errors_before}
    say(f"run-now burst: {out['run_now']}")

    day = {"time_range_start": _naive(_now() - timedelta(days=1)),
           "time_range_end": _naive(_now() + timedelta(minutes=5))}
    out["log_list_small"] = latency(client, "/api/v1/logs?" + urlencode(flavour.all_rows(day)),
                                    args.samples)
    say(f"audit-log list: {out['log_list_small']}")
    out["execution_list_small"] = latency(
        client, "/api/v1/executions?" + urlencode(flavour.all_rows(day)), args.samples)
    say(f"execution list: {out['execution_list_small']}")
    out["memory_1k"] = memory(args.server_pid)

    more = list(range(args.jobs, args.big_jobs))
    seconds = in_parallel(args.base, args.clients, more, create)
    out["create_more_jobs_per_s"] = round(len(more) / seconds, 1) if more else None
    say(f"created {len(more)} more jobs in {seconds:.2f} s")
    out["job_list_10k"] = latency(client, "/api/v1/jobs", args.big_samples)
    say(f"job list at {len(job_ids)} jobs: {out['job_list_10k']}")

    if args.executions and args.db:
        from sqlalchemy import create_engine
        jobs = client.call("GET", "/api/v1/jobs")["jobs"]
        engine = create_engine(f"sqlite:///{args.db}", connect_args={"timeout": 60})
        started = time.perf_counter()
        flavour.insert_executions(engine, jobs, args.executions, days=100)
        engine.dispose()
        out["insert_seconds"] = round(time.perf_counter() - started, 2)
        say(f"setup: {args.executions} executions inserted in {out['insert_seconds']} s")
        day = {"time_range_start": _naive(_now() - timedelta(days=1)),
               "time_range_end": _naive(_now() + timedelta(minutes=5))}
        out["execution_list_100k"] = latency(
            client, "/api/v1/executions?" + urlencode(flavour.all_rows(day)), args.big_samples)
        say(f"execution list, last 24 h, {args.executions} stored: "
            f"{out['execution_list_100k']}")
        if isinstance(flavour, Ours):
            out["execution_page_100k"] = latency(
                client, "/api/v1/executions?" + urlencode(day), args.samples)
            everything = {"time_range_start": _naive(_now() - timedelta(days=101)),
                          "time_range_end": day["time_range_end"]}
            out["execution_page_all_100k"] = latency(
                client, "/api/v1/executions?" + urlencode(everything), args.samples)
            say(f"execution list, default page: {out['execution_page_100k']}; "
                f"whole range, default page: {out['execution_page_all_100k']}")
    if isinstance(flavour, Ours):
        out["log_page_10k"] = latency(client, "/api/v1/logs", args.samples)
        say(f"audit-log list at {len(job_ids) + args.runs} entries, default page: "
            f"{out['log_page_10k']}")
    out["memory"] = memory(args.server_pid)
    out["server_errors"] = SERVER_ERRORS["count"]
    say(f"memory (MiB): {out['memory']}")
    return out


# -- the table -----------------------------------------------------------------------------------

ROWS = [
    # label, key path, unit, better ("high"/"low"), target ratio
    ("create jobs (1,000, 8 clients)", ("create_jobs_per_s",), "jobs/s", "high", 3),
    ("job list p50 @ 1,000 jobs", ("job_list_1k", "p50_ms"), "ms", "low", 3),
    ("job list p95 @ 1,000 jobs", ("job_list_1k", "p95_ms"), "ms", "low", 3),
    ("run-now burst (300 succeeded)", ("run_now", "runs_per_s"), "runs/s", "high", 3),
    ("  time until 300 succeeded", ("run_now", "seconds"), "s", "low", None),
    ("audit-log list p50 (all ~1,300)", ("log_list_small", "p50_ms"), "ms", "low", 3),
    ("execution list p50 (all ~300)", ("execution_list_small", "p50_ms"), "ms", "low", 3),
    ("create more jobs (to 10,000)", ("create_more_jobs_per_s",), "jobs/s", "high", None),
    ("job list p50 @ 10,000 jobs", ("job_list_10k", "p50_ms"), "ms", "low", 3),
    ("job list p95 @ 10,000 jobs", ("job_list_10k", "p95_ms"), "ms", "low", 3),
    ("exec list 24 h p50, 100k stored", ("execution_list_100k", "p50_ms"), "ms", "low", 3),
    ("exec list 24 h p95, 100k stored", ("execution_list_100k", "p95_ms"), "ms", "low", 3),
    ("  rows returned", ("execution_list_100k", "rows"), "rows", None, None),
    ("exec list default page p50", ("execution_page_100k", "p50_ms"), "ms", "low", None),
    ("exec list 100 days, first page", ("execution_page_all_100k", "p50_ms"), "ms", "low", None),
    ("audit-log default page @ 10k", ("log_page_10k", "p50_ms"), "ms", "low", None),
    ("5xx answers (retried)", ("server_errors",), "", None, None),
    ("peak memory @ 1,000 jobs", ("memory_1k", "VmHWM"), "MiB", "low", None),
    ("peak memory (end)", ("memory", "VmHWM"), "MiB", "low", None),
]


def _get(result: dict, path):
    value = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def table(ours: dict, theirs: dict | None) -> str:
    lines = [f"{'measure':34} {'Bots Scheduler':>16} {'ndscheduler':>13} {'ratio':>8}  target"]
    for label, path, unit, better, target in ROWS:
        mine = _get(ours, path)
        other = _get(theirs or {}, path)
        if mine is None and other is None:
            continue
        ratio, verdict = "", ""
        if mine and other and better:
            value = mine / other if better == "high" else other / mine
            ratio = f"{value:.1f}x"
            if target:
                verdict = f">= {target}x " + ("met" if value >= target else "MISSED")
        if path == ("execution_list_100k", "p50_ms") and mine is not None:
            verdict = (verdict + "; " if verdict else "") + \
                ("< 50 ms met" if mine < 50 else "< 50 ms MISSED")
        lines.append(f"{label:34} {_fmt(mine, unit):>16} {_fmt(other, unit):>13} {ratio:>8}  "
                     f"{verdict}")
    lines.append("ratio: how many times better Bots Scheduler is (throughput: ours/theirs; "
                 "latency and memory: theirs/ours)")
    return "\n".join(lines)


def _fmt(value, unit) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        value = f"{value:,.1f}" if value >= 10 else f"{value:.2f}"
    return f"{value} {unit}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=os.environ.get("APIBENCH_BASE"),
                        help="server URL (default: $APIBENCH_BASE)")
    parser.add_argument("--server-pid", type=int,
                        default=int(os.environ.get("APIBENCH_SERVER_PID") or 0) or None,
                        help="pid of the server, for its peak memory (default: "
                             "$APIBENCH_SERVER_PID)")
    parser.add_argument("--flavour", choices=("auto", "bots", "ndscheduler"), default="auto")
    parser.add_argument("--db", help="the server's SQLite file, for the 100,000 executions "
                        "(ndscheduler default: /proc/PID/cwd/datastore.db)")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--big-jobs", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--run-clients", type=int,
                        help="concurrent clients of the run-now burst (default: --clients)")
    parser.add_argument("--executions", type=int, default=100000)
    parser.add_argument("--samples", type=int, default=30, help="samples per small list call")
    parser.add_argument("--big-samples", type=int, default=15,
                        help="samples per list call at 10,000 jobs / 100,000 executions")
    parser.add_argument("--run-timeout", type=float, default=300)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--compare", nargs="+", metavar="JSON",
                        help="print the side-by-side table of OURS.json [THEIRS.json] and exit")
    args = parser.parse_args(argv)
    if args.compare:
        results = [json.loads(Path(p).read_text()) for p in args.compare[:2]]
        print(table(results[0], results[1] if len(results) > 1 else None))
        return 0
    if not args.base:
        parser.error("--base (or $APIBENCH_BASE) is required")
    if args.runs > args.jobs:
        parser.error("--runs cannot exceed --jobs (one run per distinct job)")
    if args.db is None and args.server_pid and args.flavour != "bots":
        candidate = Path(f"/proc/{args.server_pid}/cwd/datastore.db")
        if candidate.exists():
            args.db = str(candidate.resolve())
    result = run(args)
    text = json.dumps(result, indent=2)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
