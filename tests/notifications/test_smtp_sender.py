"""Building report e-mails and sending them to real SMTP servers (aiosmtpd on loopback)."""
from __future__ import annotations

import email.utils

import pytest

from bots_scheduler.jobs.report import Data, Image, Report, Section, Text
from bots_scheduler.notifications.profiles import load_profiles
from bots_scheduler.notifications.sender import DeliveryError, build_message, deliver
from tests.notifications.smtp_servers import free_port

REPORT = Report("Hosts found", [Section("Hosts", Text("1 host <b>exposed</b>"),
                                               Data({"10.0.0.1": {"ports": [22, 443]}}))])


def profile_of(smtp_ini, server, **overrides):
    (profile,) = load_profiles(smtp_ini({"team": server}, **overrides), ["team"])
    return profile


def send(profile, subject="[Bots Scheduler] nightly: Hosts found"):
    return deliver(profile, build_message(profile, subject, REPORT))


def test_plain_smtp_delivers_a_multipart_report(smtp_server, smtp_ini):
    server = smtp_server("unencrypted")
    profile = profile_of(smtp_ini, server)
    assert send(profile) == "sent to soc@example.org"
    (received,) = server.wait_for(1)
    message = received.message
    assert message["Subject"] == "[Bots Scheduler] nightly: Hosts found"
    assert message["From"] == "Bots Scheduler <bots@example.org>"
    assert message["To"] == "soc@example.org"
    assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(
        "@example.org>")
    assert message.get_content_type() == "multipart/alternative"
    assert received.mail_from == "bots@example.org" and not received.tls


def test_the_html_part_is_the_escaped_report_and_the_text_part_reads_plainly(smtp_server,
                                                                              smtp_ini):
    server = smtp_server("unencrypted")
    send(profile_of(smtp_ini, server))
    (received,) = server.wait_for(1)
    html_part, text_part = received.part("html"), received.part("plain")
    assert "<h1 class=\"report-title\">Hosts found</h1>" in html_part
    assert "1 host &lt;b&gt;exposed&lt;/b&gt;" in html_part and "<b>exposed" not in html_part
    assert "Hosts found\n===========" in text_part
    assert "1 host <b>exposed</b>" in text_part
    assert "10.0.0.1:" in text_part and "- 443" in text_part
    assert "<" not in text_part.replace("<b>", "").replace("</b>", "")


def test_several_recipients_all_receive_the_message(smtp_server, smtp_ini):
    server = smtp_server("unencrypted")
    profile = profile_of(smtp_ini, server, to="a@example.org, B <b@example.org>,c@example.org")
    send(profile)
    (received,) = server.wait_for(1)
    assert received.rcpt_tos == ["a@example.org", "b@example.org", "c@example.org"]
    assert received.message["To"] == "a@example.org, b@example.org, c@example.org"


def test_implicit_tls_verifies_the_server_against_the_cafile(smtp_server, smtp_ini):
    server = smtp_server("ssl")
    send(profile_of(smtp_ini, server))
    (received,) = server.wait_for(1)
    assert received.tls


def test_starttls_upgrades_the_connection_before_sending(smtp_server, smtp_ini):
    server = smtp_server("starttls")        # refuses MAIL before STARTTLS
    send(profile_of(smtp_ini, server))
    (received,) = server.wait_for(1)
    assert received.tls


def test_auth_with_the_right_credentials_over_starttls(smtp_server, smtp_ini):
    server = smtp_server("starttls", credentials=("bots", "right-pw"))
    send(profile_of(smtp_ini, server))
    (received,) = server.wait_for(1)
    assert received.login == "bots" and received.tls


def test_auth_with_the_right_credentials_over_implicit_tls(smtp_server, smtp_ini):
    server = smtp_server("ssl", credentials=("bots", "right-pw"))
    send(profile_of(smtp_ini, server))
    assert server.wait_for(1)[0].login == "bots"


def test_auth_over_plain_smtp_when_the_operator_chose_it(smtp_server, smtp_ini):
    server = smtp_server("unencrypted", credentials=("bots", "right-pw"))
    send(profile_of(smtp_ini, server))
    assert server.wait_for(1)[0].login == "bots"


def test_no_auth_is_attempted_without_user_and_password(smtp_server, smtp_ini):
    server = smtp_server("starttls", credentials=("bots", "right-pw"))
    send(profile_of(smtp_ini, server, user=None, password=None))
    (received,) = server.wait_for(1)
    assert received.login is None and server.auth_attempts == []


def test_wrong_credentials_fail_for_good_without_showing_the_password(smtp_server, smtp_ini):
    server = smtp_server("starttls", credentials=("bots", "right-pw"))
    profile = profile_of(smtp_ini, server, password="wrong-pw")
    with pytest.raises(DeliveryError) as caught:
        send(profile)
    assert not caught.value.transient
    assert "authentication as 'bots' rejected: 535" in str(caught.value)
    assert "wrong-pw" not in str(caught.value)
    # smtplib tries each mechanism the server offers (PLAIN, LOGIN) before giving up
    assert server.auth_attempts and set(server.auth_attempts) == {("bots", False)}
    assert server.messages == []


def test_a_certificate_that_does_not_verify_fails_for_good(smtp_server, smtp_ini):
    server = smtp_server("ssl")
    profile = profile_of(smtp_ini, server, cafile=None)     # the system CAs do not know it
    with pytest.raises(DeliveryError) as caught:
        send(profile)
    assert not caught.value.transient
    assert "TLS certificate not trusted" in str(caught.value)


def test_starttls_against_a_server_without_it_fails_for_good(smtp_server, smtp_ini):
    server = smtp_server("unencrypted")
    with pytest.raises(DeliveryError) as caught:
        send(profile_of(smtp_ini, server, security="starttls", hostname="localhost"))
    assert not caught.value.transient and "STARTTLS" in str(caught.value)
    assert server.messages == []


def test_implicit_tls_against_a_plain_server_fails_for_good(smtp_server, smtp_ini):
    server = smtp_server("unencrypted")
    with pytest.raises(DeliveryError) as caught:
        send(profile_of(smtp_ini, server, security="ssl", timeout=5))
    assert not caught.value.transient and "TLS" in str(caught.value)


def test_a_dead_server_is_a_transient_failure(smtp_ini):
    fields = {"hostname": "127.0.0.1", "port": free_port(), "security": "unencrypted",
              "from": "bots@example.org", "to": "soc@example.org"}
    (profile,) = load_profiles(smtp_ini({"dead": fields}), ["dead"])
    with pytest.raises(DeliveryError) as caught:
        send(profile)
    assert caught.value.transient
    assert f"cannot connect to 127.0.0.1:{fields['port']}" in str(caught.value)


def test_report_images_travel_as_inline_parts_not_data_urls(smtp_server, smtp_ini):
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e"
                        "44ae426082")
    server = smtp_server("unencrypted")
    profile = profile_of(smtp_ini, server)
    report = Report("Screens", [Image(png, alt="login page")])
    deliver(profile, build_message(profile, "shots", report))
    (received,) = server.wait_for(1)
    html_part = received.part("html")
    assert "data:image" not in html_part
    (image,) = [part for part in received.message.walk()
                if part.get_content_type() == "image/png"]
    assert image.get_content() == png
    assert f'src="cid:{image["Content-ID"][1:-1]}"' in html_part
    assert "[image: login page]" in received.part("plain")
