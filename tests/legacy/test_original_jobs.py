"""Job modules written as the original Bots Scheduler's (``from botscheduler import *``, pybots
replaced by a stand-in with canned data) run unchanged from a jobs folder, and their reports say
what the original's said: one entry per List argument, hosts in address order, headings and
tables as built."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

MODULES = Path(__file__).parent / "original_jobs"


@pytest.fixture
def original(server, workdir):
    jobs = workdir / "jobs"
    jobs.mkdir()
    for path in MODULES.glob("*.py"):
        shutil.copyfile(path, jobs / path.name)
    data = workdir / "data"
    data.mkdir()
    (data / "accounts.txt").write_text("alice@example.com\n")
    (data / "passwords.txt").write_text("correct horse\nhunter2\n")
    (data / "ips.txt").write_text("10.0.0.0/28\n")
    return server()


def run(srv, class_string, *pub_args) -> dict:
    job_id = srv.add_job(class_string, class_string, list(pub_args), minute="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    return srv.wait_execution(eid)


def test_the_original_style_modules_are_offered(original):
    classes = {c["job_class_string"] for c in
               original.get("/api/v1/jobclasses").json()["job_classes"]}
    assert {"haveibeenpwned.HaveIBeenPwnedJob", "haveibeenpwned.PwnedPasswordsJob",
            "shodan.ShodanHostsCheckJob", "censys.CensysHostsCheckJob",
            "censys.CensysHostsEnumeration", "shell.OriginalShellCommand",
            "everything.Everything"} <= classes


def test_hibp_breaches_with_code_sizes_headings_images_and_a_table_of_data(original):
    execution = run(original, "haveibeenpwned.HaveIBeenPwnedJob", "accounts.txt")
    assert execution["state"] == "succeeded", execution["result"]
    html = execution["result"]
    assert '<h2 class="report-heading">Breaches found</h2>' in html
    assert re.search(r'<h3 class="report-heading"><pre class="report-code report-size-20">'
                     r'<code>alice@example.com</code></pre></h3>', html)
    assert '<h4 class="report-heading">Adobe</h4>' in html
    assert "[image: https://haveibeenpwned.com/Content/Images/PwnedLogos/Adobe.png]" in html
    assert '<div class="report-data report-size-12">' in html
    assert "&lt;b&gt;153 million&lt;/b&gt;" in html and "<b>153" not in html
    assert "152445165" in html


def test_pwned_passwords_lists_one_password_per_entry(original):
    html = run(original, "haveibeenpwned.PwnedPasswordsJob", "passwords.txt")["result"]
    assert '<ul class="report-list"><li>correct horse</li><li>hunter2</li></ul>' in html


@pytest.mark.parametrize("class_string, args", [
    ("shodan.ShodanHostsCheckJob", ["KEY", "ips.txt"]),
    ("censys.CensysHostsCheckJob", ["ID", "SECRET", "ips.txt"]),
])
def test_hosts_are_sorted_by_address_with_ip2int_and_ordered_dict(original, class_string, args):
    execution = run(original, class_string, *args)
    assert execution["state"] == "succeeded", execution["result"]
    html = execution["result"]
    assert html.index("10.0.0.2") < html.index("10.0.0.10") < html.index("192.0.2.1")


def test_censys_names_and_the_shell_command(original):
    names = run(original, "censys.CensysHostsEnumeration", "ID", "SECRET", "ips.txt")
    assert names["result"].index("api.example.com") < names["result"].index("www.example.com")
    shell = run(original, "shell.OriginalShellCommand", "echo", "hello", "world")
    assert shell["state"] == "succeeded"
    assert '<h2 class="report-heading">echo hello world</h2>' in shell["result"]
    assert "<code>hello world\n</code>" in shell["result"]


def test_unknown_keywords_never_fail_a_run_and_are_logged_once(original):
    for _ in range(2):
        execution = run(original, "everything.Everything")
        assert execution["state"] == "succeeded", execution["result"]
    assert "ignored keywords" in execution["result"]
    log = original.stderr()
    assert log.count("job class everything.Everything: Code ignores the keyword argument(s) "
                     "frobnicate=, sparkle=") == 1
