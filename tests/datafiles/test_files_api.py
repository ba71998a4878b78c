"""The /api/v1/files API of CONTRACT §3 against a real server process: uploads, refusals,
deletion, the audit log, start-up synchronisation, and jobs reading uploaded files."""
from __future__ import annotations

import getpass
import http.client
import socket
import time

import pytest

from tests.datafiles.multipart import multipart_body, send_partial, upload

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes

COUNT_JOB = '''
from bots_scheduler import *


class CountEntries(JobBase):
    info = {"job_class_name": "Count entries",
            "arguments": [{"type": "file", "description": "a list"}]}

    @report
    def run(self, path, **kwargs):
        with open(path, encoding="utf-8") as handle:
            entries = [line for line in handle if line.strip() and not line.startswith("#")]
        return Section("Count", Text(f"{len(entries)} entries in {path}"))
'''
COUNT = "count.CountEntries"


def listed(srv):
    return {f["filename"]: f for f in srv.get("/api/v1/files").json()["files"]}


def file_logs(srv):
    return [(e["event"], e["user"], e["description"])
            for e in reversed(srv.get("/api/v1/logs").json()["logs"])
            if e["event"].startswith("file")]


def data_files(workdir):
    """Everything in the data folder but the SQLite datastore."""
    return sorted(p.relative_to(workdir / "data").as_posix() for p in (workdir / "data").rglob("*")
                  if not p.name.startswith("datastore.db"))


@pytest.fixture
def counting_server(server, workdir):
    (workdir / "jobs").mkdir()
    (workdir / "jobs" / "count.py").write_text(COUNT_JOB)

    def start(*args):
        return server("-j", "jobs", *args)
    return start


# -- the whole life of a file, on every datastore ----------------------------------------------

def test_upload_list_check_delete_with_audit_entries(server, database, workdir):
    srv = server(*database)
    content = b"# Documentation networks\n192.0.2.0/24\n198.51.100.7\n\n# spare\n203.0.113.9\n"
    r = upload(srv, "lists/ips.txt", content)
    assert r.status_code == 201, r.text
    assert r.json()["file"] == "lists/ips.txt"
    assert (workdir / "data" / "lists" / "ips.txt").read_bytes() == content
    info = listed(srv)["lists/ips.txt"]
    assert info["description"] == "Documentation networks"
    assert (info["entries"], info["size"]) == (3, len(content))
    assert info["user"] == getpass.getuser()
    assert info["created_time"].endswith("+00:00")
    assert srv.api("OPTIONS", "/api/v1/files/lists/ips.txt").status_code == 200
    assert srv.api("OPTIONS", "/api/v1/files/lists/other.txt").status_code == 404
    r = srv.api("DELETE", "/api/v1/files/lists/ips.txt")
    assert r.status_code == 200 and r.json() == {"file": "lists/ips.txt"}
    assert data_files(workdir) == [] and listed(srv) == {}
    assert srv.api("OPTIONS", "/api/v1/files/lists/ips.txt").status_code == 404
    assert srv.api("DELETE", "/api/v1/files/lists/ips.txt").status_code == 404
    user = getpass.getuser()
    assert file_logs(srv) == [
        ("file added", user, f"lists/ips.txt uploaded: 3 entries, {len(content)} bytes"),
        ("file deleted", user, "lists/ips.txt")]


def test_an_existing_name_is_a_conflict_unless_replace_is_asked(server, database, workdir):
    srv = server(*database)
    assert upload(srv, "ips.txt", b"192.0.2.1\n").status_code == 201
    r = upload(srv, "ips.txt", b"192.0.2.2\n192.0.2.3\n")
    assert r.status_code == 409 and "already exists" in r.json()["error"]
    assert (workdir / "data" / "ips.txt").read_bytes() == b"192.0.2.1\n"
    r = upload(srv, "ips.txt", b"192.0.2.2\n192.0.2.3\n", query="?replace=1")
    assert r.status_code == 201
    assert listed(srv)["ips.txt"]["entries"] == 2


def test_start_up_sync_lists_hand_copied_files_and_forgets_removed_ones(server, database,
                                                                       workdir):
    srv = server(*database)
    assert upload(srv, "old.txt", b"a\n").status_code == 201
    srv.stop()
    (workdir / "data" / "old.txt").unlink()
    (workdir / "data" / "copied").mkdir()
    (workdir / "data" / "copied" / "emails.lst").write_text("# By hand\na@example.com\n")
    (workdir / "data" / "notes.pdf").write_bytes(b"%PDF")
    srv = server(*database)
    files = listed(srv)
    assert set(files) == {"copied/emails.lst"}
    assert (files["copied/emails.lst"]["description"], files["copied/emails.lst"]["entries"]) \
        == ("By hand", 1)
    events = file_logs(srv)
    assert ("file added", getpass.getuser(),
            "copied/emails.lst: found in the data folder at start-up") in events
    assert ("file deleted", getpass.getuser(),
            "old.txt: no longer in the data folder at start-up") in events


def test_a_job_reads_an_uploaded_file_and_reports_its_entry_count(counting_server, database,
                                                                  workdir):
    srv = counting_server(*database)
    assert upload(srv, "lists/emails.txt",
                  b"# Staff\nalice@example.com\nbob@example.com\n\ncarol@example.com\n"
                  ).status_code == 201
    job_id = srv.add_job(COUNT, "count staff", ["lists/emails.txt"], minute="0")
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    execution = srv.wait_execution(eid)
    assert execution["state"] == "succeeded", execution
    absolute = (workdir / "data" / "lists" / "emails.txt").resolve()
    assert f"3 entries in {absolute}" in execution["result"]


# -- deleting a file that jobs use ---------------------------------------------------------------

def test_deleting_a_file_used_by_a_job_is_refused_naming_it_unless_forced(counting_server,
                                                                         workdir):
    srv = counting_server()
    assert upload(srv, "ips.txt", b"192.0.2.1\n").status_code == 201
    job_id = srv.add_job(COUNT, "nightly count", ["ips.txt"], minute="0")
    srv.add_job(COUNT, "other list", ["other.txt"], minute="0")
    r = srv.api("DELETE", "/api/v1/files/ips.txt")
    assert r.status_code == 409
    assert f"'nightly count' ({job_id})" in r.json()["error"]
    assert "other list" not in r.json()["error"]
    assert (workdir / "data" / "ips.txt").exists()
    r = srv.api("DELETE", "/api/v1/files/ips.txt?force=1")
    assert r.status_code == 200
    assert not (workdir / "data" / "ips.txt").exists()


def test_a_job_whose_file_is_gone_fails_with_a_clear_report(counting_server, workdir):
    srv = counting_server()
    assert upload(srv, "ips.txt", b"192.0.2.1\n").status_code == 201
    job_id = srv.add_job(COUNT, "count", ["ips.txt"], minute="0")
    assert srv.api("DELETE", "/api/v1/files/ips.txt?force=true").status_code == 200
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    execution = srv.wait_execution(eid)
    assert execution["state"] == "failed"
    assert "data file 'ips.txt' does not exist in the data folder" in execution["description"]
    assert "data file &#x27;ips.txt&#x27; does not exist" in execution["result"]
    assert "Traceback" not in execution["result"]


# -- refused uploads: a table of hostile names and contents ------------------------------------

@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for the refusal tables (they only read its state)."""
    from tests.support.server import ServerProcess
    workdir = tmp_path_factory.mktemp("files-api")
    (workdir / "outside").mkdir()
    (workdir / "secret.txt").write_text("do not touch\n")
    (workdir / "data").mkdir()
    (workdir / "data" / "escape").symlink_to(workdir / "outside")
    (workdir / "data" / "taken.txt").write_text("already here\n")
    (workdir / "data" / "datastore-notes.txt").write_text("x\n")
    srv = ServerProcess(workdir, ["--max-file-size", "1KiB"]).start()
    srv.workdir = workdir
    yield srv
    srv.stop()


def assert_nothing_added(srv):
    workdir = srv.workdir
    assert data_files(workdir) == ["datastore-notes.txt", "escape", "taken.txt"]
    assert list((workdir / "outside").iterdir()) == []
    assert (workdir / "secret.txt").read_text() == "do not touch\n"
    assert set(listed(srv)) == {"datastore-notes.txt", "taken.txt"}
    assert [e for e in file_logs(srv) if "start-up" not in e[2]] == []


@pytest.mark.parametrize("name, status, reason", [
    ("../evil.txt", 400, "path traversal"),
    ("../../etc/evil.txt", 400, "path traversal"),
    ("lists/../../evil.txt", 400, "path traversal"),
    ("/etc/evil.txt", 400, "absolute path"),
    ("..\\evil.txt", 400, "backslash"),
    ("C:\\Windows\\evil.txt", 400, "backslash"),
    ("%2e%2e%2fevil.txt", 400, "path traversal"),
    ("%2e%2e/evil.txt", 400, "path traversal"),
    ("%252e%252e%252fevil.txt", 400, "path traversal"),
    ("..%2fevil.txt", 400, "path traversal"),
    ("\uff0e\uff0e/evil.txt", 400, "path traversal"),
    ("\uff0e\uff0e\uff0fevil.txt", 400, "path traversal"),
    ("escape/evil.txt", 400, "leads outside the data folder"),
    ("evil.exe", 400, "extension '.exe'"),
    ("evil.txt.sh", 400, "extension '.sh'"),
    ("evil", 400, "no extension"),
    ("datastore.db", 400, "extension '.db'"),
    (".evil.txt", 400, "reserved"),
    ("", 400, "empty"),
    ("evil\x00.txt", 400, "NUL byte"),
    ("evil%0D%0A.txt", 400, "U+000D"),            # HTML5 form encoding of CR LF
    ("evil\u202etxt.exe", 400, "U+202E"),
    ("a//evil.txt", 400, "empty folder name"),
    ("taken.txt", 409, "already exists"),
    ("escape", 400, "no extension"),
])
def test_hostile_names_are_refused_and_leave_nothing(shared, name, status, reason):
    r = upload(shared, name, b"192.0.2.1\n")
    assert r.status_code == status, r.text
    assert reason in r.json()["error"]
    assert_nothing_added(shared)


def test_a_name_in_rfc5987_form_is_decoded_then_checked(shared):
    body, content_type = multipart_body(None, b"x\n",
                                        extra_disposition="filename*=UTF-8''%2E%2E%2Fevil.txt")
    r = shared.post("/api/v1/files", data=body, headers={"Content-Type": content_type})
    assert r.status_code == 400 and "path traversal" in r.json()["error"]
    assert_nothing_added(shared)


@pytest.mark.parametrize("content, status, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 400, "invalid byte 0x89 on line 1"),
    (b"192.0.2.1\n192.0.2.2\x00\n", 400, "NUL byte on line 2"),
    (b"ok\nok\n\xff\xfe\n", 400, "invalid byte 0xff on line 3"),
    (b"ok\n\x1b[2J\n", 400, "U+001B on line 2"),
    (b"one\rtwo\n", 400, "carriage return not followed by a newline on line 1"),
    ("ok\n\u2028\n".encode(), 400, "U+2028 on line 2"),
    (b"x" * 1025, 413, "larger than the limit of 1 KiB"),
])
def test_hostile_contents_are_refused_naming_reason_and_line(shared, content, status, reason):
    r = upload(shared, "new.txt", content)
    assert r.status_code == status, r.text
    assert reason in r.json()["error"]
    assert_nothing_added(shared)


@pytest.mark.parametrize("body, content_type, reason", [
    (b"192.0.2.1\n", "text/plain", "multipart/form-data"),
    (b"--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n",
     "multipart/form-data; boundary=b", "no field named 'file'"),
    (b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--b--\r\n",
     "multipart/form-data; boundary=b", "carries no file name"),
    (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nx\r\n",
     "multipart/form-data; boundary=b", "malformed multipart body"),
    (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nx\r\n"
     b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.txt\"\r\n\r\ny\r\n"
     b"--b--\r\n", "multipart/form-data; boundary=b", "one file per upload"),
])
def test_malformed_uploads_are_400_and_leave_nothing(shared, body, content_type, reason):
    r = shared.post("/api/v1/files", data=body, headers={"Content-Type": content_type})
    assert r.status_code == 400, r.text
    assert reason in r.json()["error"]
    assert_nothing_added(shared)


def test_a_file_exactly_at_the_limit_is_accepted(server, workdir):
    srv = server("--max-file-size", "1KiB")
    r = upload(srv, "full.txt", b"x" * 1023 + b"\n")
    assert r.status_code == 201 and listed(srv)["full.txt"]["size"] == 1024


def test_a_huge_declared_body_is_refused_with_413_before_it_is_sent(shared):
    with socket.create_connection(("127.0.0.1", shared.port + 1), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/files HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\n"
                     b"Content-Length: 1073741824\r\nExpect: 100-continue\r\n\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 413
        assert b"larger than the limit of 1 KiB" in response.read()
    assert_nothing_added(shared)


# -- traversal through the URL of DELETE and OPTIONS ---------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v1/files/../secret.txt",
    "/api/v1/files/%2e%2e/secret.txt",
    "/api/v1/files/%2e%2e%2fsecret.txt",
    "/api/v1/files/..%2fsecret.txt",
    "/api/v1/files/%2E%2E%2Fsecret.txt",
    "/api/v1/files/%252e%252e%252fsecret.txt",
    "/api/v1/files/..%5csecret.txt",
    "/api/v1/files/%2fetc%2fpasswd",
    "/api/v1/files//etc/passwd",
    "/api/v1/files/%c0%ae%c0%ae%2fsecret.txt",         # overlong UTF-8 dots
    "/api/v1/files/%ef%bc%8e%ef%bc%8e%2fsecret.txt",   # fullwidth dots
    "/api/v1/files/escape/..%2f..%2fsecret.txt",
    "/api/v1/files/datastore.db",
    "/api/v1/files/%00secret.txt",
])
@pytest.mark.parametrize("method", ["DELETE", "OPTIONS"])
def test_traversal_in_the_url_never_reaches_outside(shared, method, path):
    connection = http.client.HTTPConnection("127.0.0.1", shared.port + 1, timeout=10)
    connection.request(method, path)          # sent as is: no client-side normalisation
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status in (400, 404), body
    assert b'"error"' in body
    assert (shared.workdir / "secret.txt").read_text() == "do not touch\n"
    assert (shared.workdir / "data" / "datastore.db").exists()
    assert_nothing_added(shared)


# -- atomicity -------------------------------------------------------------------------------------

def test_an_upload_cut_off_mid_body_leaves_no_file_and_no_row(server, database, workdir):
    srv = server(*database)
    body, content_type = multipart_body("cut.txt", b"192.0.2.1\n" * 5000)
    sock = send_partial(srv.port + 1, body, content_type, sent=len(body) // 2)
    # the half-received file exists only as a hidden temporary, never under its name
    temporaries = srv.wait_for(lambda: [p for p in (workdir / "data").iterdir()
                                        if p.name.startswith(".upload-")], what="a temporary")
    assert not (workdir / "data" / "cut.txt").exists() and temporaries
    sock.close()
    srv.wait_for(lambda: data_files(workdir) == [], what="the temporary to be removed")
    assert listed(srv) == {} and file_logs(srv) == []
    assert upload(srv, "cut.txt", b"192.0.2.1\n").status_code == 201   # the name is free


def test_a_crash_mid_upload_leaves_nothing_after_the_next_start(server, workdir):
    srv = server()
    body, content_type = multipart_body("crash.txt", b"192.0.2.1\n" * 5000)
    sock = send_partial(srv.port + 1, body, content_type, sent=len(body) // 2)
    srv.wait_for(lambda: data_files(workdir), what="a temporary")
    srv.kill()
    sock.close()
    assert not (workdir / "data" / "crash.txt").exists()
    srv = server()
    assert data_files(workdir) == [] and listed(srv) == {}


# -- listing ---------------------------------------------------------------------------------------

def test_listing_pages_and_filters_by_time(server):
    srv = server()
    for name in ("a.txt", "b.txt", "c.txt"):
        assert upload(srv, name, b"x\n").status_code == 201
        time.sleep(0.01)
    page = srv.get("/api/v1/files?limit=2").json()
    assert [f["filename"] for f in page["files"]] == ["c.txt", "b.txt"]
    assert (page["total"], page["next_offset"]) == (3, 2)
    rest = srv.get("/api/v1/files?limit=2&offset=2").json()
    assert [f["filename"] for f in rest["files"]] == ["a.txt"] and rest["next_offset"] is None
    future = srv.get("/api/v1/files?time_range_start=2999-01-01T00:00:00Z"
                     "&time_range_end=2999-01-02T00:00:00Z").json()
    assert future["files"] == [] and future["total"] == 0
    past = srv.get("/api/v1/files?time_range_start=2000-01-01T00:00:00%2B00:00").json()
    assert past["total"] == 3
    assert srv.get("/api/v1/files?limit=0").status_code == 400


def test_the_longest_accepted_name_fits_the_files_table(server, database):
    srv = server(*database)
    longest = "d" * 60 + "/" + "é" * 125 + "e.txt"      # 191 characters, 255 bytes in one name
    r = upload(srv, longest, b"x\n")
    assert r.status_code == 201, r.text
    assert set(listed(srv)) == {longest}
    r = upload(srv, "d" + longest, b"x\n")
    assert r.status_code == 400 and "longer than 191 characters" in r.json()["error"]
    assert srv.api("DELETE", "/api/v1/files/" + longest).status_code == 200
