"""The Reports tab in a real browser: executions by time range, per-state statistics, the chart,
paging, executions that update by themselves, and the report viewer."""
from __future__ import annotations

import json

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.ui.conftest import HELLO, row_of
from tests.ui.seed import execution_row, insert_executions

NOW = datetime.now(timezone.utc)


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


def stat(page, state):
    return page.locator(f"#exec-stats .stat.state-{state.replace(' ', '-')} .stat-value")


def test_a_run_in_progress_updates_by_itself_until_it_succeeds(server, ui):
    srv = server()
    job_id = srv.add_job(HELLO, "slow greeter", ["slowly", 4], minute="0")
    execution_id = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    page = ui(srv.url).open("reports")
    row = page.locator(f"#executions-table tr[data-execution-id='{execution_id}']")
    expect(row.locator(".badge")).to_have_text("running", timeout=10000)
    expect(stat(page, "running")).to_have_text("1")
    expect(row.locator(".badge")).to_have_text("succeeded", timeout=20000)
    expect(stat(page, "succeeded")).to_have_text("1")
    expect(stat(page, "running")).to_have_text("0")
    assert srv.get(f"/api/v1/executions/{execution_id}").json()["state"] == "succeeded"


def test_time_ranges_filter_the_list_the_statistics_and_the_chart(server, ui, workdir):
    srv = server()
    job = {"job_id": srv.add_job(HELLO, "history", minute="0"), "name": "history",
           "job_class_string": HELLO}
    insert_executions(workdir, [
        *[execution_row(job, "succeeded", ago(hours=2 + n)) for n in range(3)],
        *[execution_row(job, "failed", ago(days=3, hours=n)) for n in range(2)],
        execution_row(job, "scheduled error", ago(days=10)),
        execution_row(job, "timeout", ago(days=200)),
    ])
    tab = ui(srv.url)
    page = tab.open("reports")
    expected = {"1 day": 3, "1 week": 5, "1 month": 6, "6 months": 6, "All": 7}
    for label, count in expected.items():
        page.locator("#reports-range").get_by_role("button", name=label).click()
        expect(page.locator("#executions-table tbody tr")).to_have_count(count)
        expect(page.locator("#exec-stats .stat").first).to_contain_text(f"{count}executions")
    page.locator("#reports-range").get_by_role("button", name="1 month").click()
    expect(stat(page, "succeeded")).to_have_text("3")
    expect(stat(page, "failed")).to_have_text("2")
    expect(stat(page, "scheduled error")).to_have_text("1")
    expect(stat(page, "timeout")).to_have_text("0")
    expect(page.locator("#exec-chart rect.bar.state-failed")).to_have_count(1)
    expect(page.locator("#exec-chart rect.bar.state-scheduled-error")).to_have_count(1)
    expect(page.locator("#chart-legend")).to_contain_text("scheduled error")
    expect(row_of(page, "executions-table", "scheduled error").first.locator(
        ".badge.state-scheduled-error")).to_have_count(1)
    tab.shot("reports-tab")
    page.locator("#exec-stats").get_by_role("button", name="failed").click()
    expect(page.locator("#executions-table tbody tr")).to_have_count(2)
    expect(page.locator("#executions-table tbody .badge")).to_have_text(["failed", "failed"])
    page.locator("#exec-stats").get_by_role("button", name="timeout").click()
    expect(page.locator("#executions-table tbody")).to_contain_text(
        "No timeout executions in this time range.")
    page.locator("#exec-stats").get_by_role("button", name="timeout").click()
    expect(page.locator("#executions-table tbody tr")).to_have_count(6)
    page.locator("#reports-range").get_by_role("button", name="All").click()
    expect(page.locator("#chart-title")).to_contain_text("Runs per week")
    expect(page.locator("#exec-chart rect.bar.state-timeout")).to_have_count(1)
    assert tab.errors == []


def test_a_long_history_is_paged_from_the_server(server, ui, workdir):
    srv = server()
    job = {"job_id": srv.add_job(HELLO, "busy", minute="0"), "name": "busy",
           "job_class_string": HELLO}
    insert_executions(workdir, [execution_row(job, "succeeded", ago(minutes=5 * n))
                                for n in range(120)])
    page = ui(srv.url).open("reports")
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/api/v1/executions?" in r.url else None)
    page.locator("#reports-range").get_by_role("button", name="1 day").click()
    expect(page.locator("#executions-table tbody tr")).to_have_count(50)
    expect(page.locator("#executions-pager")).to_contain_text("1–50 of 120")
    page.locator("#executions-pager").get_by_role("button", name="Next ›").click()
    expect(page.locator("#executions-pager")).to_contain_text("51–100 of 120")
    page.locator("#executions-pager").get_by_role("button", name="Next ›").click()
    expect(page.locator("#executions-pager")).to_contain_text("101–120 of 120")
    expect(page.locator("#executions-table tbody tr")).to_have_count(20)
    expect(page.locator("#executions-pager").get_by_role("button", name="Next ›")).to_be_disabled()
    assert requests and all("limit=50" in url for url in requests)


def test_the_report_viewer_shows_duration_and_leads_to_the_job(server, ui, workdir):
    srv = server()
    job_id = srv.add_job(HELLO, "viewer job", ["v"], minute="0")
    job = {"job_id": job_id, "name": "viewer job", "job_class_string": HELLO}
    row = execution_row(job, "succeeded", ago(hours=1), seconds=90,
                        result='<div class="bots-report"><h1 class="report-title">Seeded</h1>'
                               '<p class="report-text">ninety seconds of work</p></div>')
    insert_executions(workdir, [row])
    tab = ui(srv.url)
    page = tab.open(f"reports/{row['eid']}")
    meta = page.locator("#report-meta")
    expect(meta).to_contain_text("1 min 30 s")
    expect(meta).to_contain_text("seed-host · pid 4242")
    expect(page.frame_locator("#report-frame-box iframe").locator("h1")).to_have_text("Seeded")
    tab.shot("report-viewer")
    meta.get_by_role("link", name="viewer job").click()
    expect(page.locator("#job-dialog")).to_be_visible()
    expect(page.locator("#job-dialog-title")).to_have_text('Edit job "viewer job"')
    expect(page.locator("#tab-jobs")).to_be_visible()


def test_the_report_viewer_shows_the_e_mail_outcome_of_each_profile(server, ui, workdir):
    srv = server()
    job_id = srv.add_job(HELLO, "mailed", minute="0")
    job = {"job_id": job_id, "name": "mailed", "job_class_string": HELLO}
    outcomes = [{"profile": "team", "status": "sent", "message": "", "time": ""},
                {"profile": "soc", "status": "failed", "message": "535 authentication failed",
                 "time": ""}]
    row = execution_row(job, "succeeded", ago(hours=1), notifications=json.dumps(outcomes))
    insert_executions(workdir, [row])
    page = ui(srv.url).open(f"reports/{row['eid']}")
    mail = page.locator("#report-meta .report-mail")
    expect(mail).to_contain_text("team: sent")
    expect(mail).to_contain_text("soc: failed (535 authentication failed)")


def test_an_unknown_execution_is_reported_not_shown(server, ui):
    srv = server()
    page = ui(srv.url).open("reports/0123456789abcdef")
    expect(page.locator(".toast-error")).to_contain_text("That execution does not exist.")
    expect(page.locator("#report-dialog")).not_to_be_visible()


def test_times_are_local_to_the_browser_with_the_scheduler_zone_noted(server, ui, workdir):
    srv = server("--timezone", "America/New_York")
    job = {"job_id": srv.add_job(HELLO, "zoned", minute="0"), "name": "zoned",
           "job_class_string": HELLO}
    moment = ago(hours=3).replace(minute=7, second=0, microsecond=0)
    insert_executions(workdir, [execution_row(job, "succeeded", moment)])
    page = ui(srv.url, timezone_id="Asia/Tokyo", locale="en-GB").open("reports")
    expect(page.locator("#server-info")).to_contain_text(
        "Times: Asia/Tokyo · scheduler: America/New_York")
    cell = page.locator("#executions-table tbody tr time").first
    tokyo = moment.astimezone(ZoneInfo("Asia/Tokyo"))
    expect(cell).to_contain_text(f"{tokyo:%H}:07:00")
    new_york = moment.astimezone(ZoneInfo("America/New_York"))
    expect(cell).to_have_attribute("title", re.compile(
        rf"^{new_york:%a}, {new_york:%d %b %Y}, {new_york:%H}:07 .+ "
        rf"\(scheduler: America/New_York\)$"))


def test_a_running_execution_is_stopped_from_the_list_or_its_report(server, ui):
    srv = server()
    job_id = srv.add_job(HELLO, "long greeter", ["slowly", 60], minute="0")
    first = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    second = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    page = ui(srv.url).open("reports")
    row = page.locator(f"#executions-table tr[data-execution-id='{first}']")
    expect(row.locator(".badge")).to_have_text("running", timeout=10000)
    row.get_by_role("button", name="Stop").click()
    expect(page.locator("#confirm-message")).to_contain_text('"long greeter"')
    page.click("#confirm-ok")
    expect(row.locator(".badge")).to_have_text("stopped", timeout=20000)
    expect(row.get_by_role("button", name="Stop")).to_have_count(0)

    page.goto(f"{srv.url}/#/reports/{second}")
    meta = page.locator("#report-meta")
    expect(meta.locator(".badge")).to_have_text("running", timeout=10000)
    meta.get_by_role("button", name="Stop this run").click()
    page.click("#confirm-ok")
    expect(meta.locator(".badge")).to_have_text("stopped", timeout=20000)
    expect(meta.get_by_role("button", name="Stop this run")).to_have_count(0)
    logs = srv.get("/api/v1/logs").json()["logs"]
    assert [entry["event"] for entry in logs].count("stopped") == 2
