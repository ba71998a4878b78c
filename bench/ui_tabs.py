"""How fast each tab of the web interface opens with 10,000 jobs and 100,000 executions stored.

Starts ``bots-scheduler run --local`` in a temporary folder, adds --jobs jobs through the API
(--clients concurrent clients), inserts --executions execution rows and --logs audit entries
straight into its SQLite datastore (spread over 180 days), then, in headless Chromium, opens
each tab --samples times in a fresh page and reports the time from navigation until the tab's
table shows its rows, plus the time of a tab switch and of a page change, and the API calls
behind them.

    .venv/bin/python bench/ui_tabs.py [--jobs 10000] [--executions 100000]
    .venv/bin/python bench/ui_tabs.py --url http://127.0.0.1:8889   # an already filled server

Figures only; no pass/fail exit status.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.server import ServerProcess  # noqa: E402
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, HELLO  # noqa: E402
from tests.ui.seed import execution_row, insert_executions, insert_logs, utc_naive  # noqa: E402

QUIET = {"month": "1", "day": "1", "hour": "3", "minute": "17"}   # nothing fires during the run
STATES = ["succeeded"] * 8 + ["failed", "timeout", "scheduled error", "stopped"]
TABS = {  # tab -> selector that appears once its rows are drawn
    "jobs": "#jobs-table tbody tr[data-job-id]",
    "reports": "#executions-table tbody tr[data-execution-id]",
    "files": "#files-table tbody tr",
    "logs": "#logs-table tbody tr:not(.empty)",
}


def add_jobs(url: str, count: int, clients: int) -> list[str]:
    ids, lock = [], threading.Lock()

    def worker(numbers):
        session = requests.Session()
        for n in numbers:
            r = session.post(f"{url}/api/v1/jobs", json={
                "job_class_string": HELLO, "name": f"bench job {n:05d}", "pub_args": [f"n{n}", 0],
                **QUIET}, timeout=60)
            r.raise_for_status()
            with lock:
                ids.append(r.json()["job_id"])

    threads = [threading.Thread(target=worker, args=(range(i, count, clients),))
               for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ids


def seed(workdir: Path, job_ids: list[str], executions: int, logs: int) -> None:
    now = datetime.now(timezone.utc)
    rng = random.Random(7)
    rows = []
    for _ in range(executions):
        job_id = rng.choice(job_ids)
        job = {"job_id": job_id, "name": f"bench {job_id[:6]}", "job_class_string": HELLO}
        due = now - timedelta(seconds=rng.uniform(0, 180 * 86400))
        rows.append(execution_row(job, rng.choice(STATES), due,
                                  seconds=rng.uniform(0.5, 120), result="<p>seeded</p>"))
    insert_executions(workdir, rows)
    insert_logs(workdir, [{"job_id": rng.choice(job_ids), "job_name": "bench",
                           "event": "custom_run", "user": "bench",
                           "description": f"execution {uuid.uuid4().hex}",
                           "created_time": utc_naive(
                               now - timedelta(seconds=rng.uniform(0, 180 * 86400)))}
                          for _ in range(logs)])


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):7.0f} ms   max {max(values):7.0f} ms"


def measure_api(url: str, samples: int) -> None:
    week = (datetime.now(timezone.utc) - timedelta(days=7)).isoformat()
    calls = {
        "GET jobs?limit=50&sort=name": "/api/v1/jobs?limit=50&sort=name",
        "GET jobs?limit=50&q=00042": "/api/v1/jobs?limit=50&q=00042",
        "GET executions?limit=50 (1 week)": f"/api/v1/executions?limit=50&time_range_start={week}",
        "GET executions?limit=50 (all)":
            "/api/v1/executions?limit=50&time_range_start=1970-01-01T00:00:00Z",
        "GET executions/stats (all)":
            "/api/v1/executions/stats?time_range_start=1970-01-01T00:00:00Z",
        "GET logs?limit=100 (1 week)": f"/api/v1/logs?limit=100&time_range_start={week}",
    }
    session = requests.Session()
    print("API calls behind the tabs:")
    for label, path in calls.items():
        times = [timed(lambda: session.get(url + path, timeout=60).raise_for_status())
                 for _ in range(samples)]
        print(f"  {label:38s} {summary(times)}")


def measure_browser(url: str, samples: int) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        print("Tab opened in a fresh page: in the page, navigation start until its rows are drawn"
              " (in the driver, with Playwright's own overhead):")
        for tab, selector in TABS.items():
            inside, outside = [], []
            for _ in range(samples):
                page = context.new_page()
                outside.append(timed(lambda: (page.goto(f"{url}/#/{tab}"),
                                              page.wait_for_selector(selector))))
                inside.append(page.evaluate("performance.now()"))
                page.close()
            print(f"  {tab:10s} {summary(inside)}   ({summary(outside)})")
        page = context.new_page()
        page.goto(f"{url}/#/jobs")
        page.wait_for_selector(TABS["jobs"])
        print("Tab switch in an open page (click until rows are drawn):")
        for tab in ("reports", "logs", "jobs", "reports"):
            page.evaluate("document.querySelectorAll('tbody').forEach((b) => b.replaceChildren())")
            ms = timed(lambda: (page.locator("nav").get_by_role("link", name=tab.title()).click(),
                                page.wait_for_selector(TABS[tab])))
            print(f"  -> {tab:10s} {ms:7.0f} ms")
        pager = page.locator("#executions-pager").get_by_role("button", name="Next ›")
        first = page.locator("#executions-table tbody tr").first.get_attribute("data-execution-id")
        ms = timed(lambda: (pager.click(), page.wait_for_function(
            "document.querySelector('#executions-table tbody tr').dataset.executionId "
            f"!== '{first}'")))
        shown = page.locator('#executions-pager').inner_text().split(chr(10))[1]
        print(f"  reports next page {ms:7.0f} ms   ({shown})")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--executions", type=int, default=100000)
    parser.add_argument("--logs", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--url", help="measure this running --local server as it is (no seeding)")
    args = parser.parse_args()
    if args.url:
        measure_api(args.url.rstrip("/"), args.samples)
        measure_browser(args.url.rstrip("/"), args.samples)
        return
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as folder:
        server = ServerProcess(Path(folder), ["--max-workers", "8"])
        server.start()
        try:
            start = time.perf_counter()
            job_ids = add_jobs(server.url, args.jobs, args.clients)
            print(f"{len(job_ids)} jobs added through the API in "
                  f"{time.perf_counter() - start:.0f} s")
            start = time.perf_counter()
            seed(Path(folder), job_ids, args.executions, args.logs)
            print(f"{args.executions} executions and {args.logs} log entries inserted in "
                  f"{time.perf_counter() - start:.0f} s")
            measure_api(server.url, args.samples)
            measure_browser(server.url, args.samples)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
