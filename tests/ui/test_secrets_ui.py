"""The Secrets tab and the secret picker of the job dialog in a real browser (--local: admin)."""
from __future__ import annotations

import hashlib

from playwright.sync_api import expect

from tests.secrets.jobmodule import write_jobs
from tests.ui.conftest import row_of

VALUE = "ui-secret-value-31337"


def test_an_admin_adds_replaces_uses_and_deletes_a_secret_without_ever_seeing_it(server, ui,
                                                                                 workdir):
    srv = server(*write_jobs(workdir))
    tab = ui(srv.url)
    page = tab.open("secrets")
    expect(page.locator("#role")).to_have_text("admin")
    expect(page.locator(".tabs a[data-tab=secrets]")).to_be_visible()
    page.fill("#secret-name", "bad name")
    page.fill("#secret-value", "x")
    page.click("#secret-save")
    expect(page.locator("#secret-error")).to_contain_text("1-64 letters")
    page.fill("#secret-name", "ui-key")
    page.fill("#secret-value", VALUE)
    page.click("#secret-save")
    row = row_of(page, "secrets-table", "ui-key")
    expect(row).to_contain_text("no job")
    expect(page.locator("#secret-value")).to_have_value("")

    # the job dialog offers the stored secrets for a secret-typed argument
    page.goto(f"{srv.url}/#/jobs")
    page.click("#job-new")
    page.select_option("#job-class", label="Keyed job")
    page.fill("#job-name", "uses a secret")
    expect(page.locator("#job-arg-0 option", has_text="ui-key")).to_have_count(1)
    page.select_option("#job-arg-0", label="ui-key")
    page.fill("#job-arg-1", "lbl")
    page.click("#job-save")
    expect(row_of(page, "jobs-table", "uses a secret")).to_have_count(1)
    job = srv.get("/api/v1/jobs").json()["jobs"][0]
    assert job["pub_args"] == [{"secret": "ui-key"}, "lbl"]

    # editing shows the reference chosen, and a plain value typed instead is masked after
    row_of(page, "jobs-table", "uses a secret").get_by_role("button", name="Edit").click()
    expect(page.locator("#job-arg-0")).to_have_value("secret:ui-key")
    page.select_option("#job-arg-0", value="plain")
    page.fill("#job-plain-0", "typed-plain-key-777")
    page.click("#job-save")
    expect(page.locator("#job-dialog")).not_to_be_visible()
    assert srv.get(f"/api/v1/jobs/{job['job_id']}").json()["pub_args"] == ["********", "lbl"]
    row_of(page, "jobs-table", "uses a secret").get_by_role("button", name="Edit").click()
    expect(page.locator("#job-arg-0")).to_have_value("mask")
    page.fill("#job-name", "uses a secret again")
    page.select_option("#job-arg-0", label="ui-key")
    page.click("#job-save")
    expect(row_of(page, "jobs-table", "uses a secret again")).to_have_count(1)

    page.goto(f"{srv.url}/#/secrets")
    row = row_of(page, "secrets-table", "ui-key")
    expect(row).to_contain_text("uses a secret again")
    row.get_by_role("button", name="Replace value").click()
    page.fill("#secret-value", "replaced-value-4242")
    page.click("#secret-save")
    expect(page.locator(".toast").last).to_contain_text("replaced")
    run = srv.wait_execution(srv.post(f"/api/v1/executions/{job['job_id']}").json()
                             ["execution_id"])
    assert hashlib.sha256(b"replaced-value-4242").hexdigest() in run["result"]
    assert VALUE not in page.content() and "replaced-value-4242" not in page.content()
    row_of(page, "secrets-table", "ui-key").get_by_role("button", name="Delete").click()
    expect(page.locator("#confirm-dialog")).to_contain_text("used by 1 job")
    page.click("#confirm-ok")
    expect(page.locator("#secrets-table tbody")).to_contain_text("No secrets yet")
    tab.shot("secrets-tab")
    assert tab.errors == []
