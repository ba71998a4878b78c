"""The "only what is new" e-mail of a job that records findings: its new, changed and gone
findings, nothing when a run saw none (a real SMTP server, aiosmtpd)."""
from __future__ import annotations

import pytest

from tests.findings.controlled import add_job, port, run_with, write_job
from tests.notifications.smtp_servers import SmtpServer, make_self_signed

pytestmark = pytest.mark.integration     # bots-scheduler process and an SMTP server


@pytest.fixture
def mail(tmp_path):
    server = SmtpServer("unencrypted", make_self_signed(tmp_path / "tls")).start()
    yield server
    server.stop()


def notifications(srv, eid):
    def final():
        entries = srv.get(f"/api/v1/executions/{eid}").json()["notifications"]
        return entries if entries and all(e["status"] in ("sent", "failed", "skipped")
                                          for e in entries) else None
    return srv.wait_for(final, what=f"notifications of {eid}")[0]


def test_change_mode_mails_new_changed_and_gone_findings_and_nothing_else(
        server, workdir, mail):
    write_job(workdir)
    (workdir / "smtp.ini").write_text(
        f"[soc]\nhostname = 127.0.0.1\nport = {mail.port}\nsecurity = unencrypted\n"
        f"from = bots@example.org\nto = soc@example.org\n")
    srv = server("--smtp-config", "smtp.ini", "--smtp-profile", "soc")
    job = add_job(srv, "perimeter", notify_changes=True)
    first = run_with(srv, workdir, job, [port("192.0.2.1:22/tcp"), port("192.0.2.1:80/tcp")])
    assert notifications(srv, first["execution_id"])["status"] == "sent"
    (message,) = mail.wait_for(1)
    assert message.message["Subject"].endswith("(2 new, 0 changed, 0 gone)")
    same = run_with(srv, workdir, job, [port("192.0.2.1:22/tcp"), port("192.0.2.1:80/tcp")])
    skipped = notifications(srv, same["execution_id"])
    assert skipped["status"] == "skipped" and "no new, changed or gone finding" in \
        skipped["message"]
    third = run_with(srv, workdir, job, [port("192.0.2.1:22/tcp", severity="high"),
                                         port("192.0.2.1:3389/tcp", "RDP")])
    assert notifications(srv, third["execution_id"])["status"] == "sent"
    text = mail.wait_for(2)[1].part("plain")
    assert "1 new, 1 changed, 1 gone, 0 unchanged" in text
    assert "192.0.2.1:3389/tcp" in text and "192.0.2.1:80/tcp" in text
