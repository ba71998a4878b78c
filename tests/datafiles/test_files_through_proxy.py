"""Data files through the authentication proxy: the audit user is the authenticated one."""
from __future__ import annotations

from tests.datafiles.multipart import multipart_body
from tests.proxy.tools import htpasswd_tool, https


def test_upload_and_delete_through_the_proxy_record_the_authenticated_user(server, workdir):
    users = workdir / "users.htpasswd"
    htpasswd_tool(users, "dana", "dana pw", "bcrypt")
    (workdir / ".htgroups").write_text("operator: dana\n")   # files need the operator role
    srv = server("--htpasswd", str(users), local=False)
    body, content_type = multipart_body("lists/ips.txt", b"# Via proxy\n192.0.2.1\n")
    r = https("POST", srv.proxy_url + "/api/v1/files", data=body, auth=("dana", "dana pw"),
              headers={"Content-Type": content_type, "X-Requested-With": "test",
                       "X-Bots-User": "mallory"})
    assert r.status_code == 201, r.text
    assert (workdir / "data" / "lists" / "ips.txt").read_bytes() == b"# Via proxy\n192.0.2.1\n"
    listed = https("GET", srv.proxy_url + "/api/v1/files", auth=("dana", "dana pw")).json()
    assert [(f["filename"], f["user"]) for f in listed["files"]] == [("lists/ips.txt", "dana")]
    r = https("DELETE", srv.proxy_url + "/api/v1/files/lists/ips.txt", auth=("dana", "dana pw"))
    assert r.status_code == 200
    logs = https("GET", srv.proxy_url + "/api/v1/logs", auth=("dana", "dana pw")).json()["logs"]
    assert [(e["event"], e["user"]) for e in reversed(logs)] == [("file added", "dana"),
                                                               ("file deleted", "dana")]


def test_an_upload_without_credentials_never_reaches_the_data_folder(server, workdir):
    users = workdir / "users.htpasswd"
    htpasswd_tool(users, "dana", "dana pw", "bcrypt")
    (workdir / ".htgroups").write_text("operator: dana\n")   # files need the operator role
    srv = server("--htpasswd", str(users), local=False)
    body, content_type = multipart_body("ips.txt", b"192.0.2.1\n")
    r = https("POST", srv.proxy_url + "/api/v1/files", data=body,
              headers={"Content-Type": content_type, "X-Requested-With": "test"})
    assert r.status_code == 401
    direct = srv.post("/api/v1/files", data=body, headers={"Content-Type": content_type})
    assert direct.status_code == 403
    assert not (workdir / "data" / "ips.txt").exists()
