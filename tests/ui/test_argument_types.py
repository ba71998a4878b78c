"""The job dialog knows the argument types of the original Bots Scheduler's dialog (string,
list, bool, range, file) with their meaning, so that its job modules are offered as they were."""
from __future__ import annotations

import textwrap

from playwright.sync_api import expect

from tests.ui.conftest import row_of

MODULE = '''
from botscheduler import *


class Everything(JobBase):
    info = {
        'job_class_name': "Every argument type",
        'arguments': [
            {'type': 'string', 'description': 'A name'},
            {'type': 'list', 'description': 'Some tokens'},
            {'type': 'bool', 'description': 'Verbose'},
            {'type': 'range', 'description': 'Depth', 'min': 1, 'max': 5, 'step': 1},
            {'type': 'file', 'description': 'A list of hosts'},
        ],
    }

    @report
    def run(self, name, tokens, verbose, depth, hosts, **kwargs):
        return [Text(name)]
'''


def test_each_argument_type_gets_its_input_and_its_json_value(server, ui, workdir):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "everything.py").write_text(textwrap.dedent(MODULE))
    (workdir / "data").mkdir()
    (workdir / "data" / "hosts.txt").write_text("192.0.2.1\n")
    srv = server()
    tab = ui(srv.url)
    page = tab.open("jobs")
    page.click("#job-new")
    page.select_option("#job-class", label="Every argument type")
    expect(page.locator("#job-arg-3")).to_have_attribute("type", "number")
    expect(page.locator("#job-arg-3")).to_have_attribute("max", "5")
    expect(page.locator("#job-arg-4 option")).to_contain_text(["hosts.txt"])
    page.fill("#job-name", "all types")
    page.fill("#job-arg-0", "alpha")
    page.fill("#job-arg-1", "not a list")
    page.select_option("#job-arg-2", "true")
    page.fill("#job-arg-3", "9")
    page.select_option("#job-arg-4", "hosts.txt")
    page.click("#job-save")
    expect(page.locator("#job-error")).to_contain_text("Argument 2 must be a JSON list")
    page.fill("#job-arg-1", '["a", "b c"]')
    page.click("#job-save")
    expect(page.locator("#job-error")).to_contain_text(
        "Argument 4 must be a whole number from 1 to 5")
    page.fill("#job-arg-3", "3")
    page.click("#job-save")
    expect(row_of(page, "jobs-table", "all types")).to_have_count(1)
    [job] = srv.get("/api/v1/jobs").json()["jobs"]
    assert job["pub_args"] == ["alpha", ["a", "b c"], True, 3, "hosts.txt"]
    row_of(page, "jobs-table", "all types").get_by_role("button", name="Edit").click()
    expect(page.locator("#job-arg-1")).to_have_value('["a","b c"]')
    expect(page.locator("#job-arg-2")).to_have_value("true")
    expect(page.locator("#job-arg-3")).to_have_value("3")
    assert tab.errors == []
