"""The Files tab in a real browser: upload, the server's refusals in words, replace, delete."""
from __future__ import annotations

import getpass

from playwright.sync_api import expect

from tests.ui.conftest import row_of


def upload(page, name, content: bytes):
    page.set_input_files("#upload-input",
                         files=[{"name": name, "mimeType": "text/plain", "buffer": content}])
    page.click("#upload-button")


def test_an_uploaded_list_is_listed_with_its_entries_and_user(server, ui, workdir):
    srv = server()
    tab = ui(srv.url)
    page = tab.open("files")
    upload(page, "office-ips.txt", b"# office\n192.0.2.1\n192.0.2.0/30\n")
    row = row_of(page, "files-table", "office-ips.txt")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(2)).to_have_text("2")
    expect(row).to_contain_text(getpass.getuser())
    expect(page.locator("#file-stats")).to_contain_text("1files")
    expect(page.locator("#upload-error")).to_have_text("")
    assert (workdir / "data" / "office-ips.txt").read_bytes() == \
        b"# office\n192.0.2.1\n192.0.2.0/30\n"
    upload(page, "domains.txt", b"example.org\nexample.net\nexample.com\n")
    expect(page.locator("#files-table tbody tr")).to_have_count(2)
    expect(page.locator("#file-stats")).to_contain_text("5entries")
    tab.shot("files-tab")
    assert tab.errors == []


def test_a_refused_upload_shows_the_servers_reason(server, ui, workdir):
    srv = server()
    page = ui(srv.url).open("files")
    upload(page, "picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    expect(page.locator("#upload-error")).to_contain_text("Upload refused:")
    expect(page.locator("#upload-error")).to_contain_text("invalid byte 0x89 on line 1")
    upload(page, "tool.exe", b"192.0.2.1\n")
    expect(page.locator("#upload-error")).to_contain_text("extension '.exe'")
    expect(page.locator("#files-table tbody")).to_contain_text("No data files")
    assert srv.get("/api/v1/files").json()["files"] == []


def test_choosing_nothing_is_explained_without_a_request(server, ui):
    srv = server()
    page = ui(srv.url).open("files")
    page.click("#upload-button")
    expect(page.locator("#upload-error")).to_have_text("Choose a file to upload first.")


def test_an_existing_name_is_replaced_only_after_confirmation(server, ui, workdir):
    srv = server()
    page = ui(srv.url).open("files")
    upload(page, "ips.txt", b"192.0.2.1\n")
    expect(row_of(page, "files-table", "ips.txt")).to_have_count(1)
    upload(page, "ips.txt", b"192.0.2.2\n192.0.2.3\n")
    expect(page.locator("#confirm-dialog")).to_contain_text("already exists")
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    assert (workdir / "data" / "ips.txt").read_bytes() == b"192.0.2.1\n"
    upload(page, "ips.txt", b"192.0.2.2\n192.0.2.3\n")
    page.click("#confirm-ok")
    expect(row_of(page, "files-table", "ips.txt").locator("td").nth(2)).to_have_text("2")
    assert (workdir / "data" / "ips.txt").read_bytes() == b"192.0.2.2\n192.0.2.3\n"


def test_delete_asks_first_and_names_the_jobs_using_the_file(server, ui, workdir):
    srv = server()
    srv.post("/api/v1/files", files={"file": ("spare.txt", b"192.0.2.9\n")})
    srv.post("/api/v1/files", files={"file": ("used.txt", b"192.0.2.1\n")})
    srv.add_job("bots_scheduler.jobs.builtin.shodan_hosts.ShodanHostsCheckJob", "nightly shodan",
                ["KEY", "used.txt"], minute="0")
    page = ui(srv.url).open("files")
    row_of(page, "files-table", "spare.txt").get_by_role("button", name="Delete").click()
    page.click("#confirm-ok")
    expect(row_of(page, "files-table", "spare.txt")).to_have_count(0)
    assert not (workdir / "data" / "spare.txt").exists()
    row_of(page, "files-table", "used.txt").get_by_role("button", name="Delete").click()
    page.click("#confirm-ok")
    expect(page.locator("#confirm-title")).to_have_text("The file is in use")
    expect(page.locator("#confirm-message")).to_contain_text("nightly shodan")
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    assert (workdir / "data" / "used.txt").exists()
    row_of(page, "files-table", "used.txt").get_by_role("button", name="Delete").click()
    page.click("#confirm-ok")
    page.click("#confirm-ok")           # "Delete anyway"
    expect(row_of(page, "files-table", "used.txt")).to_have_count(0)
    assert not (workdir / "data" / "used.txt").exists()
