"""The interface works under the strictest Content-Security-Policy: no inline script, no inline
style, nothing from elsewhere. The browser enforces the policy; the test only adds the header."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import HELLO

STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'")
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__violations.push(
        `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def with_strict_csp(route):
    response = route.fetch()
    route.fulfill(response=response,
                  headers={**response.headers, "content-security-policy": STRICT_CSP})


def test_every_tab_dialog_and_report_works_under_a_strict_policy(server, ui):
    srv = server()
    job_id = srv.add_job(HELLO, "csp job", ["policy"], minute="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    srv.wait_execution(eid)
    tab = ui(srv.url)
    page = tab.page
    page.context.route("**/*", with_strict_csp)
    page.add_init_script(RECORD_VIOLATIONS)
    tab.open("jobs")
    expect(page.locator("#jobs-table tbody tr")).to_have_count(1)
    page.click("#job-new")
    page.select_option("#job-class", label="Sample — hello")
    expect(page.locator("#job-preview li")).to_have_count(5)
    page.keyboard.press("Escape")
    for name in ("Reports", "Files", "Logs", "Reports"):
        page.locator("nav").get_by_role("link", name=name).click()
        expect(page.locator(f"#tab-{name.lower()}")).to_be_visible()
    expect(page.locator("#exec-chart rect.bar.state-succeeded")).to_have_count(1)
    page.get_by_role("link", name="View report").click()
    frame = page.frame_locator("#report-frame-box iframe")
    expect(frame.locator("body")).to_contain_text("Hello, policy!")
    # the report's own stylesheet loads in the sandboxed frame under the inherited policy
    expect(frame.locator("h2").first).to_have_css("border-bottom-style", "solid")
    expect(page.locator("#report-dialog")).to_have_css("border-radius", "10px")
    assert page.evaluate("window.__violations") == []
    assert tab.errors == []
