"""The Jobs tab in a real browser: the "New job" dialog, the table, and the actions on a job."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.ui.conftest import HELLO, row_of

SHODAN = "bots_scheduler.jobs.builtin.shodan_hosts.ShodanHostsCheckJob"


def jobs(srv):
    return srv.get("/api/v1/jobs").json()["jobs"]


def test_a_job_made_in_the_dialog_is_scheduled_as_shown_in_words_and_preview(server, ui):
    srv = server()
    tab = ui(srv.url)
    page = tab.open("jobs")
    page.click("#job-new")
    page.select_option("#job-class", label="Sample — hello")
    expect(page.locator("#job-class-notes")).to_contain_text("Says hello")
    expect(page.locator("#job-args")).to_contain_text("Who to greet")
    expect(page.locator("#job-args")).to_contain_text("integer")
    expect(page.locator("#job-example")).to_contain_text('["world", 0]')
    page.fill("#job-name", "Weekday greeter")
    page.fill("#job-arg-0", "world")
    page.fill("#job-arg-1", "2")
    page.fill("#cron-minute", "30")
    page.fill("#cron-hour", "9,17")
    page.fill("#cron-day_of_week", "mon-fri")
    expect(page.locator("#job-cron-words")).to_have_text(
        "At 09:30 and 17:30, on Monday through Friday")
    expect(page.locator("#job-preview li")).to_have_count(5)
    expect(page.locator("#job-preview li").first).to_contain_text(re.compile(r"(09|17):30.*UTC"))
    tab.shot("jobs-new-dialog")
    page.click("#job-save")
    expect(page.locator("#job-dialog")).not_to_be_visible()
    row = row_of(page, "jobs-table", "Weekday greeter")
    expect(row).to_contain_text("Sample — hello")
    expect(row).to_contain_text("30 9,17 * * mon-fri")
    expect(row).to_contain_text("At 09:30 and 17:30, on Monday through Friday")
    expect(row).to_contain_text("active")
    [job] = jobs(srv)
    assert (job["name"], job["job_class_string"], job["pub_args"]) == \
        ("Weekday greeter", HELLO, ["world", 2])
    assert (job["minute"], job["hour"], job["day_of_week"]) == ("30", "9,17", "mon-fri")
    tab.shot("jobs-tab")
    assert tab.errors == []


def test_an_invalid_cron_field_is_named_and_nothing_is_saved(server, ui):
    srv = server()
    page = ui(srv.url).open("jobs")
    page.click("#job-new")
    page.select_option("#job-class", label="Sample — hello")
    page.fill("#job-name", "never")
    page.fill("#cron-hour", "25")
    expect(page.locator("#job-cron-error")).to_contain_text("hour")
    expect(page.locator("#cron-hour")).to_have_attribute("aria-invalid", "")
    expect(page.locator("#cron-minute")).not_to_have_attribute("aria-invalid", "")
    expect(page.locator("#job-preview li")).to_have_count(0)
    page.click("#job-save")
    expect(page.locator("#job-error")).to_contain_text("hour")
    expect(page.locator("#job-dialog")).to_be_visible()
    assert jobs(srv) == []
    page.fill("#cron-hour", "3")
    expect(page.locator("#job-cron-error")).to_have_text("")
    expect(page.locator("#cron-hour")).not_to_have_attribute("aria-invalid", "")


def test_a_job_without_a_name_or_class_is_not_sent(server, ui):
    srv = server()
    page = ui(srv.url).open("jobs")
    page.click("#job-new")
    page.click("#job-save")
    expect(page.locator("#job-error")).to_have_text("Choose a job class.")
    page.select_option("#job-class", label="Sample — hello")
    page.click("#job-save")
    expect(page.locator("#job-error")).to_have_text("Give the job a name.")
    assert jobs(srv) == []


def test_pause_resume_and_delete_after_confirmation(server, ui):
    srv = server()
    job_id = srv.add_job(HELLO, "pausable", ["x"], minute="0")
    page = ui(srv.url).open("jobs")
    row = row_of(page, "jobs-table", "pausable")
    row.get_by_role("button", name="Pause").click()
    expect(row.locator(".badge")).to_have_text("paused")
    expect(page.locator("#job-stats")).to_contain_text("1paused")
    assert srv.get(f"/api/v1/jobs/{job_id}").json()["next_run_time"] == ""
    row.get_by_role("button", name="Resume").click()
    expect(row.locator(".badge")).to_have_text("active")
    assert srv.get(f"/api/v1/jobs/{job_id}").json()["next_run_time"] != ""
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#confirm-dialog")).to_contain_text("pausable")
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    expect(row).to_have_count(1)
    assert srv.get(f"/api/v1/jobs/{job_id}").status_code == 200
    row.get_by_role("button", name="Delete").click()
    page.click("#confirm-ok")
    expect(row).to_have_count(0)
    assert srv.get(f"/api/v1/jobs/{job_id}").status_code == 404


def test_editing_a_job_keeps_its_id_and_changes_what_was_edited(server, ui):
    srv = server()
    job_id = srv.add_job(HELLO, "before", ["a", 1], minute="5")
    page = ui(srv.url).open("jobs")
    row_of(page, "jobs-table", "before").get_by_role("button", name="Edit").click()
    expect(page.locator("#job-dialog-title")).to_have_text('Edit job "before"')
    expect(page.locator("#job-arg-0")).to_have_value("a")
    expect(page.locator("#job-arg-1")).to_have_value("1")
    expect(page.locator("#cron-minute")).to_have_value("5")
    page.fill("#job-name", "after")
    page.fill("#job-arg-0", "b")
    page.click("#job-save")
    expect(row_of(page, "jobs-table", "after")).to_have_count(1)
    job = srv.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["name"], job["pub_args"], job["minute"]) == ("after", ["b", 1], "5")


def test_a_file_argument_is_chosen_among_the_uploaded_files(server, ui):
    srv = server()
    r = srv.post("/api/v1/files", files={"file": ("office.txt", b"192.0.2.1\n192.0.2.0/30\n")})
    assert r.status_code == 201, r.text
    page = ui(srv.url).open("jobs")
    page.click("#job-new")
    page.select_option("#job-class", value=SHODAN)
    expect(page.locator("#job-arg-1 option")).to_contain_text(
        ["Choose an uploaded file…", "office.txt"])
    page.fill("#job-name", "office exposure")
    # the API key is a secret-typed argument: a plain value typed instead of a stored secret
    page.select_option("#job-arg-0", value="plain")
    page.fill("#job-plain-0", "KEY")
    page.select_option("#job-arg-1", "office.txt")
    page.click("#job-save")
    expect(row_of(page, "jobs-table", "office exposure")).to_have_count(1)
    assert jobs(srv)[0]["pub_args"] == ["********", "office.txt"]   # shown masked


def test_example_arguments_and_extra_arguments_fill_the_fields(server, ui):
    srv = server()
    page = ui(srv.url).open("jobs")
    page.click("#job-new")
    page.select_option("#job-class", label="Sample — hello")
    page.click("#job-use-example")
    expect(page.locator("#job-arg-0")).to_have_value("world")
    expect(page.locator("#job-arg-1")).to_have_value("0")
    page.click("#job-args .add-arg")
    page.fill("#job-arg-2", "extra")
    page.fill("#job-name", "hello with extra")
    page.click("#job-save")
    expect(row_of(page, "jobs-table", "hello with extra")).to_have_count(1)
    assert jobs(srv)[0]["pub_args"] == ["world", 0, "extra"]


def test_the_shell_command_takes_its_tokens_as_one_json_list(server, ui):
    """ShellCommand declares one 'list' argument, as the original did: the whole pub_args."""
    srv = server()
    page = ui(srv.url).open("jobs")
    page.click("#job-new")
    page.select_option("#job-class", label="Shell command")
    expect(page.locator("#job-args")).to_contain_text("list")
    page.click("#job-use-example")
    expect(page.locator("#job-arg-0")).to_have_value('["uname","-a"]')
    expect(page.locator("#job-args .add-arg")).to_have_count(0)
    page.fill("#job-arg-0", '["uname", "-a", "--version"]')
    page.fill("#job-name", "uname")
    page.click("#job-save")
    expect(row_of(page, "jobs-table", "uname")).to_have_count(1)
    [job] = jobs(srv)
    assert job["pub_args"] == ["uname", "-a", "--version"]
    row_of(page, "jobs-table", "uname").get_by_role("button", name="Edit").click()
    expect(page.locator("#job-arg-0")).to_have_value('["uname","-a","--version"]')
    page.fill("#job-arg-0", "uname -a")
    page.click("#job-save")
    expect(page.locator("#job-error")).to_contain_text("must be a JSON list")
    assert jobs(srv)[0]["pub_args"] == ["uname", "-a", "--version"]


def test_run_now_links_to_the_report_of_that_run(server, ui):
    srv = server()
    srv.add_job(HELLO, "runner", ["browser"], minute="0")
    page = ui(srv.url).open("jobs")
    row_of(page, "jobs-table", "runner").get_by_role("button", name="Run now").click()
    page.locator(".toast").get_by_role("link", name="View report").click()
    dialog = page.locator("#report-dialog")
    expect(dialog.locator(".badge")).to_have_text("succeeded", timeout=20000)
    frame = page.frame_locator("#report-frame-box iframe")
    expect(frame.locator("body")).to_contain_text("Hello, browser!")


def test_search_sort_and_paging_over_many_jobs(server, ui):
    srv = server()
    for number in range(60):
        srv.add_job(HELLO, f"job-{number:02d}", minute=str(number % 60))
    page = ui(srv.url).open("jobs")
    expect(page.locator("#jobs-table tbody tr")).to_have_count(50)
    expect(page.locator("#jobs-pager")).to_contain_text("1–50 of 60")
    expect(page.locator("#job-stats")).to_contain_text("60jobs")
    page.get_by_role("button", name="Next ›").click()
    expect(page.locator("#jobs-table tbody tr")).to_have_count(10)
    expect(page.locator("#jobs-pager")).to_contain_text("51–60 of 60")
    page.click("#jobs-table th[data-sort=name]")           # name, descending
    expect(page.locator("#jobs-table tbody tr").first).to_contain_text("job-59")
    page.fill("#job-search", "job-07")
    expect(page.locator("#jobs-table tbody tr")).to_have_count(1)
    expect(page.locator("#jobs-table tbody tr")).to_contain_text("job-07")
    page.fill("#job-search", "nothing like this")
    expect(page.locator("#jobs-table tbody")).to_contain_text("No job matches the search.")


def test_run_options_and_time_zone_are_set_in_the_dialog_and_shown_again(server, ui):
    srv = server()
    page = ui(srv.url).open("jobs")
    page.click("#job-new")
    page.select_option("#job-class", label="Sample — hello")
    page.fill("#job-name", "tuned")
    page.fill("#cron-minute", "0")
    page.fill("#cron-hour", "8")
    page.locator("#job-options summary").click()
    page.fill("#job-timezone-field", "Asia/Tokyo")
    expect(page.locator("#job-preview li").first).to_contain_text("08:00")
    expect(page.locator("#job-preview li").first).to_contain_text("GMT+9")
    page.fill("#job-timeout", "120")
    page.fill("#job-retries", "11")
    page.select_option("#job-notify-changes", "true")
    page.click("#job-save")
    expect(page.locator("#job-error")).to_contain_text(
        "retries must be a whole number from 0 to 10")
    page.fill("#job-retries", "2")
    page.click("#job-save")
    row = row_of(page, "jobs-table", "tuned")
    expect(row).to_contain_text("At 08:00, every day (Asia/Tokyo)")
    [job] = jobs(srv)
    assert (job["timezone"], job["timeout"], job["retries"], job["retry_delay"],
            job["notify_changes"]) == ("Asia/Tokyo", 120, 2, None, True)
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#job-options")).to_have_attribute("open", "")
    expect(page.locator("#job-timezone-field")).to_have_value("Asia/Tokyo")
    expect(page.locator("#job-timeout")).to_have_value("120")
    expect(page.locator("#job-notify-changes")).to_have_value("true")
    page.fill("#job-timeout", "")
    page.click("#job-save")
    expect(page.locator("#job-dialog")).not_to_be_visible()
    assert jobs(srv)[0]["timeout"] is None
