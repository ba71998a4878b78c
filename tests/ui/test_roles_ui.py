"""The web interface offers each role only what it may do (CONTRACT §6): signed in through the
real proxy as a viewer, an operator and an admin (.htgroups)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.proxy.tools import htpasswd_tool, https
from tests.ui.conftest import HELLO, row_of

USERS = {"vera": "viewer", "otto": "operator", "ada": "admin"}


@pytest.fixture
def proxied(server, workdir):
    users = workdir / "users.htpasswd"
    for user in USERS:
        htpasswd_tool(users, user, f"{user} pw", "bcrypt")
    (workdir / ".htgroups").write_text("".join(f"{role}: {user}\n"
                                               for user, role in USERS.items()))
    srv = server("--htpasswd", str(users), local=False)
    r = https("POST", srv.proxy_url + "/api/v1/jobs", auth=("ada", "ada pw"),
              json={"job_class_string": HELLO, "name": "shared job", "pub_args": ["x"],
                    "minute": "0"})
    assert r.status_code == 201, r.text
    return srv


@pytest.mark.parametrize("user", list(USERS))
def test_each_role_sees_its_own_controls(proxied, ui, user):
    role = USERS[user]
    tab = ui(proxied.proxy_url, ignore_https_errors=True,
             http_credentials={"username": user, "password": f"{user} pw"})
    page = tab.open("jobs")
    expect(page.locator("#who")).to_contain_text(f"user: {user}")
    expect(page.locator("#role")).to_have_text(role)
    row = row_of(page, "jobs-table", "shared job")
    expect(row).to_have_count(1)
    buttons = {name: row.get_by_role("button", name=name) for name in
               ("Run now", "Edit", "Pause", "Delete")}
    operator = role in ("operator", "admin")
    admin = role == "admin"
    expect(page.locator("#job-new")).to_be_visible() if admin else \
        expect(page.locator("#job-new")).to_be_hidden()
    for name, allowed in (("Run now", operator), ("Pause", operator), ("Edit", admin),
                          ("Delete", admin)):
        expect(buttons[name]).to_have_count(1 if allowed else 0)
    expect(row.locator("a.job-name")).to_have_count(1 if admin else 0)
    secrets_link = page.locator(".tabs a[data-tab=secrets]")
    expect(secrets_link).to_be_visible() if admin else expect(secrets_link).to_be_hidden()
    if operator:
        buttons["Run now"].click()
        expect(page.locator(".toast").last).to_contain_text("started")
    page.goto(f"{proxied.proxy_url}/#/files")
    page.wait_for_selector("body[data-ready=true]")
    form = page.locator("#upload-form")
    expect(form).to_be_visible() if operator else expect(form).to_be_hidden()
    tab.shot(f"roles-{role}")
    assert tab.errors == []
