"""The Logs tab in a real browser: who did what, filtered by time, user, event and job."""
from __future__ import annotations

import getpass
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from tests.ui.conftest import HELLO, row_of
from tests.ui.seed import insert_logs, utc_naive


def rows(page):
    return page.locator("#logs-table tbody tr:not(.empty)")


def test_the_audit_log_is_filtered_by_event_job_user_and_time(server, ui, workdir):
    srv = server()
    alpha = srv.add_job(HELLO, "alpha", ["a"], minute="0")
    srv.api("PUT", f"/api/v1/jobs/{alpha}", json={"name": "alpha two", "minute": "15"})
    srv.api("PATCH", f"/api/v1/jobs/{alpha}")
    beta = srv.add_job(HELLO, "beta", minute="0")
    srv.post(f"/api/v1/executions/{beta}")
    srv.post("/api/v1/files", files={"file": ("ips.txt", b"192.0.2.1\n")})
    insert_logs(workdir, [{"job_id": "gone", "job_name": "ancient", "event": "added",
                           "user": "former-admin", "description": "long ago",
                           "created_time": utc_naive(datetime.now(timezone.utc)
                                                     - timedelta(days=10))}])
    tab = ui(srv.url)
    page = tab.open("logs")
    expect(rows(page)).to_have_count(6)
    modified = row_of(page, "logs-table", "modified")
    expect(modified.locator("ul.changes li")).to_contain_text(
        ["name: 'alpha' → 'alpha two'", "minute: '0' → '15'"])
    expect(modified.locator("del").first).to_have_text("'alpha'")
    expect(modified.locator("ins").first).to_have_text("'alpha two'")
    expect(row_of(page, "logs-table", "file added")).to_contain_text("ips.txt")
    tab.shot("logs-tab")

    page.select_option("#logs-event", "paused")
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("alpha two")
    page.select_option("#logs-event", "")
    page.fill("#logs-job", "beta")
    expect(rows(page)).to_have_count(2)
    expect(rows(page).locator(".event")).to_have_text(["run now", "added"])
    rows(page).get_by_role("link", name="execution report").click()
    expect(page.locator("#report-dialog")).to_be_visible()
    expect(page.locator("#report-meta")).to_contain_text("beta")
    page.locator("#report-dialog [data-close]").click()
    page.locator("nav").get_by_role("link", name="Logs").click()
    page.fill("#logs-job", alpha)
    expect(rows(page)).to_have_count(3)
    page.fill("#logs-job", "")
    page.fill("#logs-user", getpass.getuser()[:3].upper())
    expect(rows(page)).to_have_count(6)
    page.fill("#logs-user", "former")
    expect(page.locator("#logs-table tbody")).to_contain_text("No audit log entries match.")
    page.locator("#logs-range").get_by_role("button", name="1 month").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("ancient")
    assert tab.errors == []


def test_a_job_link_in_the_log_opens_the_job(server, ui):
    srv = server()
    srv.add_job(HELLO, "linked", minute="0")
    page = ui(srv.url).open("logs")
    rows(page).get_by_role("link", name="linked").click()
    expect(page.locator("#job-dialog-title")).to_have_text('Edit job "linked"')
