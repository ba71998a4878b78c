"""The whole interface through the authentication proxy: HTTPS, Basic credentials, the proxy's
own Content-Security-Policy and security headers, and the signed-in user in the audit log."""
from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.proxy.tools import htpasswd_tool
from tests.ui.conftest import row_of
from tests.ui.test_csp import RECORD_VIOLATIONS

ALICE = ("alice", "alice ui pw")


def proxied_ui(server, ui, workdir, **options):
    users = workdir / "users.htpasswd"
    htpasswd_tool(users, *ALICE, "bcrypt")
    (workdir / ".htgroups").write_text(f"admin: {ALICE[0]}\n")   # she creates jobs
    srv = server("--htpasswd", str(users), local=False)
    tab = ui(srv.proxy_url, ignore_https_errors=True, **options)
    return srv, tab


def test_a_user_schedules_runs_reads_uploads_and_is_audited_through_the_proxy(server, ui, workdir):
    srv, tab = proxied_ui(server, ui, workdir,
                          http_credentials={"username": ALICE[0], "password": ALICE[1]})
    page = tab.page
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(f"{srv.proxy_url}/#/jobs")
    assert "'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#server-info")).to_contain_text("user: alice")

    page.click("#job-new")
    page.select_option("#job-class", label="Sample — hello")
    page.fill("#job-name", "through the proxy")
    page.fill("#job-arg-0", "proxy")
    expect(page.locator("#job-preview li")).to_have_count(5)
    page.click("#job-save")
    row = row_of(page, "jobs-table", "through the proxy")
    expect(row).to_have_count(1)
    tab.shot("proxy-jobs-tab")
    row.get_by_role("button", name="Run now").click()
    page.locator(".toast").get_by_role("link", name="View report").click()
    expect(page.locator("#report-dialog .badge")).to_have_text("succeeded", timeout=20000)
    frame = page.frame_locator("#report-frame-box iframe")
    expect(frame.locator("body")).to_contain_text("Hello, proxy!")
    expect(frame.locator("h2").first).to_have_css("border-bottom-style", "solid")
    tab.shot("proxy-report-viewer")
    page.locator("#report-dialog [data-close]").click()

    page.locator("nav").get_by_role("link", name="Files").click()
    page.set_input_files("#upload-input", files=[{"name": "proxied.txt", "mimeType": "text/plain",
                                                  "buffer": b"192.0.2.1\n"}])
    page.click("#upload-button")
    expect(row_of(page, "files-table", "proxied.txt")).to_contain_text("alice")
    page.set_input_files("#upload-input", files=[{"name": "bad.exe", "mimeType": "text/plain",
                                                  "buffer": b"192.0.2.1\n"}])
    page.click("#upload-button")
    expect(page.locator("#upload-error")).to_contain_text("extension '.exe'")
    tab.shot("proxy-files-tab")

    page.locator("nav").get_by_role("link", name="Logs").click()
    page.fill("#logs-user", "alice")
    expect(page.locator("#logs-table tbody tr .event")).to_have_text(
        ["file added", "run now", "added"])
    tab.shot("proxy-logs-tab")
    page.locator("nav").get_by_role("link", name="Reports").click()
    expect(page.locator("#exec-stats .stat.state-succeeded .stat-value")).to_have_text("1")
    tab.shot("proxy-reports-tab")
    assert page.evaluate("window.__violations") == []
    assert tab.errors == []


def test_without_credentials_the_browser_gets_no_interface(server, ui, workdir):
    srv, tab = proxied_ui(server, ui, workdir)
    # the proxy answers 401 with a Basic challenge; with no credentials to give, Chromium
    # abandons the navigation
    with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
        tab.page.goto(f"{srv.proxy_url}/")
    assert tab.page.locator("#tab-jobs").count() == 0
