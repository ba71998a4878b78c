"""--local against a real cross-site page in headless Chromium (issue 13, CONTRACT §6 last bullet).

The attacker's page is served by its own HTTP server under the name ``attacker.test`` and the
rebinding page under ``rebind.test``; Chromium resolves both to 127.0.0.1
(``--host-resolver-rules``), as a DNS-rebinding attacker's resolver would. What the security
review did from such a page (a no-cors text/plain POST of a ShellCommand job, a form post, a
JSON call, a frame, a same-name read of the export) must change nothing and read nothing, while
the UI's own origin keeps working.
"""
from __future__ import annotations

import http.server
import threading

import pytest
from playwright.sync_api import sync_playwright

from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

SHELL = "bots_scheduler.jobs.builtin.shell.ShellCommand"
HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"

ATTACK = """<!doctype html>
<html><body>
<iframe name="sink" id="sink"></iframe>
<iframe id="framed" src="TARGET/"></iframe>
<form id="form" method="POST" action="TARGET/api/v1/jobs" enctype="text/plain" target="sink">
  <input name='{"job_class_string": "SHELL", "name": "form",
                "pub_args": ["touch", "PWNED_FORM"], "x": "' value='"}'>
</form>
<script>
const job = JSON.stringify({job_class_string: "SHELL", name: "no-cors",
                            pub_args: ["touch", "PWNED_FETCH"]});
const results = {};
async function attack() {
  // 1. the review's exploit: a "simple" request needs no preflight, its answer is opaque
  try {
    await fetch("TARGET/api/v1/jobs", {method: "POST", mode: "no-cors", body: job,
                                       headers: {"Content-Type": "text/plain"}});
    results.nocors = "sent";
  } catch (e) { results.nocors = "blocked: " + e; }
  // 2. a JSON call needs a CORS preflight, which we never grant
  try {
    const r = await fetch("TARGET/api/v1/jobs", {method: "POST", body: job,
                                                 headers: {"Content-Type": "application/json"}});
    results.cors = "status " + r.status;
  } catch (e) { results.cors = "blocked"; }
  // 3. reading the export cross-origin
  try {
    const r = await fetch("TARGET/api/v1/export");
    results.read = "status " + r.status + " " + (await r.text()).slice(0, 50);
  } catch (e) { results.read = "blocked"; }
  // 4. a classic form post
  document.getElementById("form").submit();
  await new Promise(resolve => setTimeout(resolve, 1500));
  window.results = results;
  document.title = "done";
}
attack();
</script>
</body></html>
"""


class AttackerServer(http.server.ThreadingHTTPServer):
    def __init__(self, page: bytes):
        self.page = page
        super().__init__(("127.0.0.1", 0), _AttackHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _AttackHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.server.page)))
        self.end_headers()
        self.wfile.write(self.server.page)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def chromium():
    """Chromium that resolves attacker.test and rebind.test to 127.0.0.1."""
    rules = "MAP attacker.test 127.0.0.1, MAP rebind.test 127.0.0.1"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"])
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium):
    context = chromium.new_context()
    yield context.new_page()
    context.close()


def test_a_cross_site_page_cannot_create_or_run_jobs_nor_read_anything(server, workdir, tab):
    srv = server()
    target = f"http://127.0.0.1:{srv.port + 1}"
    page = ATTACK.replace("TARGET", target).replace("SHELL", SHELL)
    attacker = AttackerServer(page.encode())
    try:
        tab.goto(f"http://attacker.test:{attacker.port}/")
        tab.wait_for_function("document.title === 'done'", timeout=30_000)
        results = tab.evaluate("window.results")
        framed = [f for f in tab.main_frame.child_frames if f.name != "sink"][0]
    finally:
        attacker.stop()
    # nothing was created, nothing ran, nothing was written
    assert srv.get("/api/v1/jobs").json()["jobs"] == []
    assert srv.get("/api/v1/logs").json()["logs"] == []
    assert not (workdir / "PWNED_FETCH").exists() and not (workdir / "PWNED_FORM").exists()
    # the JSON call died at its preflight; the read got no data (CORS and our 403)
    assert results["cors"] == "blocked", results
    assert results["read"] == "blocked", results
    # the UI refused to be framed (X-Frame-Options: DENY, frame-ancestors 'none')
    assert not framed.url.startswith(target), framed.url


def test_a_rebound_host_name_reads_nothing(server, tab):
    """DNS rebinding: the attacker's name now points at 127.0.0.1; the page is same-origin
    with the scheduler under that name, so only the Host check stands in the way."""
    srv = server()
    rebound = f"http://rebind.test:{srv.port + 1}"
    srv.add_job(HELLO, "a job with a secret name")
    response = tab.goto(f"{rebound}/api/v1/export")
    assert response.status == 403
    assert "Host" in response.json()["error"]
    status, text = tab.evaluate("""async () => {
        const r = await fetch('/api/v1/jobs');
        return [r.status, await r.text()];
    }""")
    assert status == 403
    assert "a job with a secret name" not in text


def test_the_uis_own_origin_still_works(server, tab):
    srv = server()
    own = f"http://127.0.0.1:{srv.port + 1}"
    tab.goto(f"{own}/")
    tab.wait_for_selector("body[data-ready=true]")
    status = tab.evaluate("""async (hello) => {
        const r = await fetch('/api/v1/jobs', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({job_class_string: hello, name: 'from the UI'})});
        return r.status;
    }""", HELLO)
    assert status == 201
    assert [job["name"] for job in srv.get("/api/v1/jobs").json()["jobs"]] == ["from the UI"]
