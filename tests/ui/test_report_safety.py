"""Hostile report HTML can never run code in the interface, reach the network, or move the page.

A job module planted in the jobs folder puts <script>, event handlers, javascript: links, forms,
frames, refreshes and remote resources in its report: once escaped by the report items (as every
job should), once as raw HTML (a job that bypasses the escaping). A canary HTTP server records
any request the report manages to make."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

HOSTILE_JOBS = '''
from bots_scheduler import *

CANARY = {canary!r}
RAW = f"""
<script>window.top.pwned = 'script'; fetch(CANARY + '/script');</script>
<img src="x" onerror="window.top.pwned = 'onerror'; new Image().src = CANARY + '/onerror'">
<svg onload="window.top.pwned = 'svg'"></svg>
<img src="{{CANARY}}/img">
<link rel="stylesheet" href="{{CANARY}}/css">
<div style="background: url({{CANARY}}/style)">styled</div>
<iframe src="{{CANARY}}/frame"></iframe>
<object data="{{CANARY}}/object"></object>
<meta http-equiv="refresh" content="0;url={{CANARY}}/refresh">
<p><a id="js-link" href="javascript:window.top.pwned = 'link'">javascript link</a></p>
<p><a id="top-link" href="{{CANARY}}/top" target="_top">top link</a></p>
<p><a id="blank-link" href="{{CANARY}}/blank" target="_blank">new window link</a></p>
<form id="form" action="{{CANARY}}/form" method="post"><button id="submit">send</button></form>
<h1 id="raw-marker">raw hostile report</h1>
"""
PAYLOADS = ["<script>window.top.pwned = 'data'</script>",
            "<img src=x onerror=\\"window.top.pwned = 'data-img'\\">",
            "javascript:window.top.pwned = 'data-link'"]


class EscapedHostile(JobBase):
    info = {{"job_class_name": "Escaped hostile data"}}

    @report
    def run(self, *args, **kwargs):
        self._data = {{"payloads": PAYLOADS}}
        return Section("Found", Text(PAYLOADS[0]), List(PAYLOADS), Data(self._data))


class RawHostile(JobBase):
    info = {{"job_class_name": "Raw hostile HTML"}}

    def run(self, *args, **kwargs):
        return RAW
'''


class Canary:
    """A loopback HTTP server that records every request made to it."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"<h1>canary</h1>")

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def canary():
    server = Canary()
    yield server
    server.close()


@pytest.fixture
def hostile(server, workdir, canary):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "hostile.py").write_text(HOSTILE_JOBS.format(canary=canary.url))
    srv = server()

    def run(class_name):
        job_id = srv.add_job(f"hostile.{class_name}", class_name, minute="0")
        eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
        assert srv.wait_execution(eid)["state"] == "succeeded"
        return eid
    return srv, run


def open_report(ui, srv, eid):
    tab = ui(srv.url)
    page = tab.open("reports")
    page.locator(f"#executions-table tr[data-execution-id='{eid}']").get_by_role(
        "link", name="View report").click()
    expect(page.locator("#report-dialog")).to_be_visible()
    return tab, page, page.frame_locator("#report-frame-box iframe")


def assert_nothing_ran(tab, page, canary, url_before):
    page.wait_for_timeout(1500)       # give any refresh, beacon or handler time to fire
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("window.top.pwned") is None
    assert canary.hits == []
    assert page.url == url_before
    assert len(page.context.pages) == 1
    assert not [e for e in tab.errors if "pwned" in e]


def test_escaped_hostile_data_shows_as_text(hostile, ui, canary):
    srv, run = hostile
    eid = run("EscapedHostile")
    tab, page, frame = open_report(ui, srv, eid)
    body = frame.locator("body")
    expect(body).to_contain_text("<script>window.top.pwned = 'data'</script>")
    expect(body).to_contain_text("<img src=x onerror=")
    expect(frame.locator("script, img, a")).to_have_count(0)
    assert_nothing_ran(tab, page, canary, page.url)


def test_raw_hostile_html_cannot_run_reach_out_or_navigate(hostile, ui, canary):
    srv, run = hostile
    eid = run("RawHostile")
    tab, page, frame = open_report(ui, srv, eid)
    expect(frame.locator("#raw-marker")).to_have_text("raw hostile report")
    iframe = page.locator("#report-frame-box iframe")
    assert iframe.get_attribute("sandbox") == "allow-same-origin"     # never allow-scripts
    url_before = page.url
    assert_nothing_ran(tab, page, canary, url_before)
    for link in ("#js-link", "#top-link", "#blank-link", "#submit"):
        frame.locator(link).click()
    assert_nothing_ran(tab, page, canary, url_before)
    expect(frame.locator("#raw-marker")).to_have_text("raw hostile report")   # frame not navigated
    tab.shot("report-viewer-hostile")
