"""CONTRACT §6: roles from .htgroups — parsing, `passwd --role`, the file generated with
.htpasswd, reloading while running (a bad edit keeps the previous roles), an unknown role at
start (one line, exit 2), the warning when nobody is admin, and bearer tokens through the
proxy (user token:NAME in the audit log)."""
from __future__ import annotations

import stat
import subprocess
import sys
import time

import pytest

from bots_scheduler.proxy import htgroups
from tests.proxy.tools import htpasswd_tool, https

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
JOB = {"job_class_string": HELLO, "name": "n", "minute": "0"}


def test_parsing_rules():
    groups = htgroups.parse("# c\n\nadmin: ada\noperator: otto ada\nviewer:\n")
    assert groups == {"admin": ["ada"], "operator": ["otto", "ada"], "viewer": []}
    assert htgroups.roles_of(groups) == {"ada": "admin", "otto": "operator"}
    for bad, words in (("boss: x\n", "unknown role 'boss'"), ("admin ada\n", "line 1"),
                       ("admin: a\n: b\n", "line 2")):
        with pytest.raises(htgroups.HtgroupsError, match=words):
            htgroups.parse(bad)


@pytest.mark.integration
def test_passwd_with_role_writes_the_group_file_0600(workdir):
    def passwd(user, *args):
        return subprocess.run([sys.executable, "-m", "bots_scheduler", "passwd", user,
                               "--password-stdin", *args], cwd=workdir, input="pw\n",
                              capture_output=True, text=True, timeout=60)
    assert passwd("ada", "--role", "admin").returncode == 0
    assert passwd("otto", "--role", "operator").returncode == 0
    result = passwd("otto", "--role", "admin")
    assert result.returncode == 0 and "from operator to admin" in result.stdout
    path = workdir / ".htgroups"
    assert htgroups.roles_of(htgroups.load(path)) == {"ada": "admin", "otto": "admin"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bad = passwd("eve", "--role", "boss")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    path.write_text("boss: eve\n")
    broken = passwd("eve", "--role", "viewer")
    assert broken.returncode == 2 and len(broken.stderr.strip().splitlines()) == 1
    assert "unknown role" in broken.stderr
    assert "eve" not in (workdir / ".htpasswd").read_text()     # nothing changed


def test_generated_with_the_htpasswd_file(server, workdir):
    srv = server(local=False)
    path = workdir / ".htgroups"
    assert path.read_text().strip().endswith("admin: administrator")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = srv.stdout().split("password '")[1].split("'")[0]
    info = https("GET", srv.proxy_url + "/api/v1/info", auth=("administrator", password)).json()
    assert (info["user"], info["role"]) == ("administrator", "admin")


@pytest.mark.integration
def test_an_unknown_role_at_start_is_one_line_and_exit_2(workdir):
    users = workdir / "users.htpasswd"
    htpasswd_tool(users, "ada", "pw", "bcrypt")
    (workdir / ".htgroups").write_text("admin: ada\nsuperuser: ada\n")
    for extra in ([], ["--htgroups", str(workdir / ".htgroups")]):
        result = subprocess.run([sys.executable, "-m", "bots_scheduler", "run", "--htpasswd",
                                 str(users), "-p", "18990", *extra], cwd=workdir,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "unknown role 'superuser'" in lines[0]
    missing = subprocess.run([sys.executable, "-m", "bots_scheduler", "run", "--htgroups",
                              "nope", "-p", "18990"], cwd=workdir, capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 2 and "--htgroups" in missing.stderr


def test_edits_are_picked_up_and_a_bad_edit_keeps_the_previous_roles(server, workdir):
    users = workdir / "users.htpasswd"
    htpasswd_tool(users, "ada", "ada pw", "bcrypt")
    htpasswd_tool(users, "vic", "vic pw", "bcrypt")
    groups = workdir / ".htgroups"
    groups.write_text("viewer: ada\n")
    srv = server("--htpasswd", str(users), local=False)
    assert "no user of" in srv.stderr() and "admin role" in srv.stderr()
    ada = ("ada", "ada pw")

    def create():
        return https("POST", srv.proxy_url + "/api/v1/jobs", auth=ada, json=JOB)
    refused = create()
    assert refused.status_code == 403 and "admin" in refused.json()["error"]
    groups.write_text("admin: ada\n")
    assert srv.wait_for(lambda: create().status_code == 201, what="ada becoming admin")
    time.sleep(0.05)
    groups.write_text("admin: ada\nowner: vic\n")       # a bad edit
    # the file is read again at the next request: the error is logged, and the previous roles
    # stay in force
    srv.wait_for(lambda: create().status_code == 201 and "unknown role 'owner'" in srv.stderr(),
                 what="the error logged")
    vic = https("GET", srv.proxy_url + "/api/v1/info", auth=("vic", "vic pw")).json()
    assert vic["role"] == "viewer"                        # in no group
    assert srv.proc.poll() is None


def test_a_bearer_token_acts_as_token_name_and_is_refused_once_revoked(server, database,
                                                                      workdir):
    users = workdir / "users.htpasswd"
    htpasswd_tool(users, "ada", "ada pw", "bcrypt")

    def token(*args):
        result = subprocess.run([sys.executable, "-m", "bots_scheduler", "token", *args,
                                 *database], cwd=workdir, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout
    secret = token("create", "deploy", "--role", "admin").strip().splitlines()[-1]
    assert secret.startswith("bst_")
    srv = server("--htpasswd", str(users), *database, local=False)
    bearer = {"Authorization": f"Bearer {secret}"}
    r = https("POST", srv.proxy_url + "/api/v1/jobs", headers=bearer, json=JOB)
    assert r.status_code == 201, r.text
    logs = https("GET", srv.proxy_url + "/api/v1/logs", headers=bearer).json()["logs"]
    assert logs[0]["user"] == "token:deploy"
    # a client cannot pass a token or a role past the proxy, nor claim a user with one
    forged = https("POST", srv.proxy_url + "/api/v1/jobs", auth=("ada", "ada pw"), json=JOB,
                   headers={"X-Bots-Role": "admin", "X-Bots-Token": secret})
    assert forged.status_code == 403
    assert "deploy" in token("list") and secret not in token("list")
    assert "never" not in token("list").splitlines()[1].split()[-1]    # last used is set
    token("revoke", "deploy")
    r = https("GET", srv.proxy_url + "/api/v1/jobs", headers=bearer)
    assert r.status_code == 401 and "token" in r.json()["error"]
    assert https("GET", srv.proxy_url + "/api/v1/jobs",
                 headers={"Authorization": "Bearer bst_unknown"}).status_code == 401
    assert https("GET", srv.proxy_url + "/api/v1/jobs",
                 headers={"Authorization": "Bearer " + "x" * 500}).status_code == 401
