"""`clean` and `reset`: they destroy data, so they ask first; reset restores the config files
from the templates without overwriting an edited one."""
from __future__ import annotations

import pytest

from tests.cli.test_run_command import cli

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"


def _populate(server, *args):
    srv = server(*args)
    srv.add_job(HELLO, "kept?")
    srv.stop()


def test_clean_without_confirmation_deletes_nothing(server, workdir):
    _populate(server)
    (workdir / "data" / "ips.txt").write_text("192.0.2.1\n")
    done = cli("clean", cwd=workdir, stdin="")
    assert done.returncode == 2 and "-y/--yes" in done.stderr
    assert (workdir / "data" / "datastore.db").exists()
    assert (workdir / "data" / "ips.txt").exists()


def test_clean_with_yes_removes_the_sqlite_datastore_and_the_data_files(server, workdir):
    _populate(server)
    (workdir / "data" / "ips.txt").write_text("192.0.2.1\n")
    done = cli("clean", "-y", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert not (workdir / "data").exists()
    srv = server()
    assert srv.get("/api/v1/jobs").json()["jobs"] == []


def test_clean_on_a_server_database_drops_the_tables(server, workdir, database):
    if "sqlite" in database:
        return _populate(server, *database)
    _populate(server, *database)
    done = cli("clean", "-y", *database, cwd=workdir)
    assert done.returncode == 0, done.stderr
    srv = server(*database)
    assert srv.get("/api/v1/jobs").json()["jobs"] == []
    assert srv.get("/api/v1/logs").json()["logs"] == []


def test_reset_in_an_empty_folder_creates_conf_with_both_files(workdir):
    done = cli("reset", "-y", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "[sqlite]" in (workdir / "conf" / "db.ini").read_text()
    assert "hostname" in (workdir / "conf" / "smtp.ini").read_text()


def test_reset_never_overwrites_an_edited_config_file(workdir):
    (workdir / "conf").mkdir()
    (workdir / "conf" / "smtp.ini").write_text("[mine]\nhostname = mail.example.org\n")
    done = cli("reset", "-y", cwd=workdir)
    assert done.returncode == 0
    assert (workdir / "conf" / "smtp.ini").read_text() == "[mine]\nhostname = mail.example.org\n"
    assert (workdir / "conf" / "db.ini").is_file()


def test_answering_no_at_the_prompt_keeps_everything(server, workdir):
    import pty
    import os
    import subprocess
    import sys
    _populate(server)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "bots_scheduler", "clean"], cwd=workdir,
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    while b"[y/N]" not in output:
        output += os.read(leader, 1024)
    os.write(leader, b"n\n")
    assert proc.wait(timeout=30) == 1
    os.close(leader)
    assert (workdir / "data" / "datastore.db").exists()
