"""The built-in jobs end to end: the real ``bots-scheduler run`` process, jobs added and run now
through the REST API, reports read back; every service is a local fake."""
import os
from pathlib import Path

import pytest

from tests.jobs.conftest import CENSYS_CERTIFICATES, CENSYS_HOSTS, HIBP_BREACHES, PWNED, \
    SHODAN_HOSTS
from tests.jobs.fakes import FakeCensys, FakeHIBP, FakePwnedPasswords, FakeShodan
from tests.jobs.helpers import text_of

BUILTIN = "bots_scheduler.jobs.builtin"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def fakes():
    services = {
        "BOTS_SCHEDULER_SHODAN_URL": FakeShodan(hosts=SHODAN_HOSTS),
        "BOTS_SCHEDULER_CENSYS_URL": FakeCensys(hosts=CENSYS_HOSTS,
                                                certificates=CENSYS_CERTIFICATES),
        "BOTS_SCHEDULER_HIBP_URL": FakeHIBP(breaches=HIBP_BREACHES,
                                            accounts={"alice@example.org": ["Adobe"]}),
        "BOTS_SCHEDULER_PWNEDPASSWORDS_URL": FakePwnedPasswords(PWNED),
    }
    for fake in services.values():
        fake.start()
    yield services
    for fake in services.values():
        fake.stop()


@pytest.fixture
def srv(server, workdir, fakes):
    data = workdir / "data"
    data.mkdir()
    (data / "ips.txt").write_text("203.0.113.9\n198.51.100.7\nnot-an-ip\n")
    (data / "domains.txt").write_text("example.org\n")
    (data / "accounts.txt").write_text("alice@example.org\n")
    (data / "passwords.txt").write_text("hunter2hunter2\nnot pwned at all 42\n")
    (data / "hosts.txt").write_text("127.0.0.1\n")
    env = {name: fake.url for name, fake in fakes.items()}
    return server("-j", str(EXAMPLES), env=env)


def run_now(srv, class_name, pub_args, module=BUILTIN):
    job_id = srv.add_job(f"{module}.{class_name}", name=class_name, pub_args=pub_args)
    response = srv.post(f"/api/v1/executions/{job_id}")
    assert response.status_code == 200, response.text
    return srv.wait_execution(response.json()["execution_id"], timeout=60)


def test_built_in_jobs_are_listed_and_raw_shell_is_not(srv):
    listed = {c["job_class_string"] for c in srv.get("/api/v1/jobclasses").json()["job_classes"]}
    for module, name in [("shell", "ShellCommand"), ("shodan_hosts", "ShodanHostsCheckJob"),
                         ("censys_hosts", "CensysHostsCheckJob"),
                         ("censys_hosts", "CensysHostsEnumeration"),
                         ("hibp", "HaveIBeenPwnedJob"),
                         ("pwned_passwords", "PwnedPasswordsJob")]:
        assert f"{BUILTIN}.{module}.{name}" in listed
    assert f"{BUILTIN}.shell.RawShellCommand" not in listed
    assert "ports_check.PortsCheck" in listed


def test_raw_shell_command_cannot_be_scheduled_while_disabled(srv):
    response = srv.post("/api/v1/jobs", json={
        "job_class_string": f"{BUILTIN}.shell.RawShellCommand", "name": "raw",
        "pub_args": ["id"]})
    assert response.status_code == 400
    assert "disabled" in response.json()["error"]


def test_shell_command_succeeds_and_fails_with_its_report(srv):
    done = run_now(srv, "shell.ShellCommand", ["echo", "hello from the scheduler"])
    assert done["state"] == "succeeded"
    assert "hello from the scheduler" in text_of(done["result"])
    failed = run_now(srv, "shell.ShellCommand", ["sh", "-c", "echo oops >&2; exit 4"])
    assert failed["state"] == "failed"
    text = text_of(failed["result"])
    assert "exit status 4" in text and "oops" in text


def test_shell_command_timeout_given_with_a_token_list_ends_the_run_timeout(srv):
    done = run_now(srv, "shell.ShellCommand", [["sleep", "30"], 1])
    assert done["state"] == "timeout"
    assert "timed out after 1 s" in text_of(done["result"])


def test_shodan_check_runs_against_the_configured_url(srv, fakes):
    done = run_now(srv, "shodan_hosts.ShodanHostsCheckJob", ["shodan-key", "ips.txt"])
    assert done["state"] == "succeeded", done["result"]
    text = text_of(done["result"])
    assert text.index("198.51.100.7") < text.index("203.0.113.9")
    assert "3 not-an-ip not an IP address or CIDR network" in text
    assert sorted(fakes["BOTS_SCHEDULER_SHODAN_URL"].paths()) == [
        "/shodan/host/198.51.100.7", "/shodan/host/203.0.113.9"]


def test_shodan_bad_key_ends_failed_saying_what_shodan_answered(srv):
    done = run_now(srv, "shodan_hosts.ShodanHostsCheckJob", ["wrong-key", "ips.txt"])
    assert done["state"] == "failed"
    assert "Shodan: HTTP 401: Invalid API key" in text_of(done["result"])


def test_censys_jobs(srv):
    hosts = run_now(srv, "censys_hosts.CensysHostsCheckJob",
                    ["censys-id", "censys-secret", "ips.txt"])
    assert hosts["state"] == "succeeded", hosts["result"]
    assert "443/tcp HTTP nginx 1.0" in text_of(hosts["result"])
    names = run_now(srv, "censys_hosts.CensysHostsEnumeration",
                    ["censys-id", "censys-secret", "domains.txt"])
    assert names["state"] == "succeeded", names["result"]
    assert "mail.example.org" in text_of(names["result"])


def test_hibp_check(srv, fakes):
    done = run_now(srv, "hibp.HaveIBeenPwnedJob", ["hibp-key", "accounts.txt"])
    assert done["state"] == "succeeded", done["result"]
    assert "alice@example.org Found in 1 breaches." in text_of(done["result"])
    assert fakes["BOTS_SCHEDULER_HIBP_URL"].seen[0].headers["hibp-api-key"] == "hibp-key"


def test_hibp_rate_limit_beyond_the_bound_ends_failed(srv, fakes):
    fakes["BOTS_SCHEDULER_HIBP_URL"].force(429, {"statusCode": 429, "message": "Rate limit is "
                                                 "exceeded."}, {"Retry-After": "7200"})
    done = run_now(srv, "hibp.HaveIBeenPwnedJob", ["hibp-key", "accounts.txt"])
    assert done["state"] == "failed"
    assert "HTTP 429: Rate limit is exceeded." in text_of(done["result"])


def test_pwned_passwords_sends_only_prefixes_and_never_shows_passwords(srv, fakes):
    done = run_now(srv, "pwned_passwords.PwnedPasswordsJob", ["passwords.txt"])
    assert done["state"] == "succeeded", done["result"]
    assert "hunter2" not in done["result"]
    assert "1 h***** 9,659,365" in text_of(done["result"])
    paths = fakes["BOTS_SCHEDULER_PWNEDPASSWORDS_URL"].paths()
    assert len(paths) == 2
    assert all(len(p) == len("/range/") + 5 for p in paths)


@pytest.mark.parametrize("name,message", [
    ("../conf/db.ini", "leaves the data folder"),
    ("datastore.db.lock", "has extension '.lock'"),
    ("datastore.db", "has extension '.db'"),
    (".hidden.txt", "reserved"),
])
def test_a_file_argument_the_files_api_would_not_accept_is_refused_at_creation(srv, name,
                                                                               message):
    r = srv.post("/api/v1/jobs", json={"job_class_string": f"{BUILTIN}.pwned_passwords."
                                       f"PwnedPasswordsJob", "name": "p", "pub_args": [name]})
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]
    assert srv.get("/api/v1/jobs").json()["jobs"] == []


def test_a_missing_data_file_fails_the_run_with_a_report(srv):
    done = run_now(srv, "pwned_passwords.PwnedPasswordsJob", ["not-uploaded.txt"])
    assert done["state"] == "failed"
    assert "does not exist in the data folder" in text_of(done["result"])


def test_the_documented_example_job_runs_from_a_jobs_folder(srv):
    done = run_now(srv, "PortsCheck", [f"{srv.port + 1}", "hosts.txt", 2], module="ports_check")
    assert done["state"] == "succeeded", done["result"]
    assert f"127.0.0.1 {srv.port + 1} open" in text_of(done["result"])


def test_server_shutdown_kills_a_running_shell_command(srv, workdir):
    job_id = srv.add_job(f"{BUILTIN}.shell.ShellCommand", name="long",
                         pub_args=["sh", "-c", "echo $$ > long.pid; exec sleep 300"])
    eid = srv.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    pid_file = workdir / "data" / "long.pid"
    srv.wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), what="the command")
    pid = int(pid_file.read_text())
    assert srv.stop() == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    restarted = srv.start()
    assert restarted.get(f"/api/v1/executions/{eid}").json()["state"] == "stopped"
