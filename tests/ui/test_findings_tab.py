"""The Findings tab in a real browser: filters, "new in the last run", a finding's history with
links to its runs, and the counts in the Reports list and the report viewer."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.findings.controlled import add_job, port, run_with, write_job
from tests.ui.conftest import row_of


def rows(page):
    return page.locator("#findings-table tbody tr:not(.empty)")


def test_findings_are_filtered_and_their_history_links_to_the_runs(server, ui, workdir):
    write_job(workdir)
    srv = server()
    job = add_job(srv, "daily ports")
    first = run_with(srv, workdir, job, [port("192.0.2.1:22/tcp", "SSH", "high"),
                                         port("192.0.2.1:80/tcp", "HTTP <b>", "low")])
    run_with(srv, workdir, job, [port("192.0.2.1:22/tcp", "SSH", "high"),
                                 port("192.0.2.1:443/tcp", "HTTPS", "medium")])
    tab = ui(srv.url)
    page = tab.open("findings")
    expect(rows(page)).to_have_count(2)                       # open ones by default
    expect(row_of(page, "findings-table", "192.0.2.1:443/tcp")).to_contain_text("daily ports")
    page.select_option("#findings-state", "")
    expect(rows(page)).to_have_count(3)
    expect(row_of(page, "findings-table", "192.0.2.1:80/tcp")).to_contain_text("gone")
    expect(row_of(page, "findings-table", "192.0.2.1:80/tcp")).to_contain_text("HTTP <b>")
    page.select_option("#findings-severity", "high")
    expect(rows(page)).to_have_count(1)
    page.select_option("#findings-severity", "")
    page.fill("#findings-kind", "nothing-like-it")
    expect(page.locator("#findings-table tbody tr.empty")).to_contain_text("No findings match")
    page.fill("#findings-kind", "open-port")
    expect(rows(page)).to_have_count(3)

    page.select_option("#findings-job", job)
    page.select_option("#findings-since", "last-run")
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("192.0.2.1:443/tcp")
    page.select_option("#findings-since", "")

    row_of(page, "findings-table", "192.0.2.1:80/tcp").get_by_role("button",
                                                                    name="History").click()
    history = page.locator("#finding-history tbody tr")
    expect(history).to_have_count(2)
    expect(history.locator(".badge")).to_contain_text(["gone", "new"])
    tab.shot("findings-history")
    history.nth(1).get_by_role("link").click()
    expect(page.locator("#report-dialog")).to_be_visible()
    expect(page.locator("#report-meta")).to_contain_text(first["execution_id"])
    expect(page.locator("#report-meta .report-findings")).to_have_text("2 new")
    page.locator("#report-dialog [data-close]").click()

    page.locator("nav").get_by_role("link", name="Reports").click()
    counts = page.locator("#executions-table .findings-counts")
    expect(counts).to_have_text(["1 new · 1 gone", "2 new"])
    assert tab.errors == []
