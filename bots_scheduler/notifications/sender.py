"""Building one report e-mail and handing it to an SMTP server with ``smtplib``.

``deliver`` raises ``DeliveryError`` whose ``transient`` flag says whether trying again later can
help (a refused connection, a timeout, a 4xx reply) or not (wrong credentials, a certificate that
does not verify, a 5xx reply).
"""
from __future__ import annotations

import email.policy
import html
import smtplib
import socket
import ssl
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bots_scheduler.jobs.report import Image, Renderer, Report
from bots_scheduler.notifications.profiles import SmtpProfile
from bots_scheduler.notifications.text import html_to_text

MAILER = "Bots Scheduler"
# Headers unfolded up to RFC 5322's 998 characters: the default 78 makes Python fold a subject
# starting with "[" right after "Subject:", which readers then show with a leading space.
_POLICY = email.policy.SMTP.clone(max_line_length=998)

_STYLE = """
body { font-family: sans-serif; color: #222; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: left; vertical-align: top; }
pre { background: #f5f5f5; padding: .5em; overflow-x: auto; }
dt { font-weight: bold; }
"""


class DeliveryError(Exception):
    def __init__(self, message: str, transient: bool):
        super().__init__(message)
        self.transient = transient


def build_message(profile: SmtpProfile, subject: str, report: Report,
                  headers: dict | None = None, redact=None) -> EmailMessage:
    """A multipart/alternative message: the plain-text rendering first, then the HTML report.

    The report is rendered here, for e-mail: its images become inline parts referenced by
    Content-ID (many mail clients block ``data:`` URLs); ``redact`` hides secret values."""
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = subject
    message["From"] = profile.sender
    message["To"] = ", ".join(profile.recipients)
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain=_domain(profile.envelope_sender))
    message["Auto-Submitted"] = "auto-generated"      # RFC 3834: no vacation replies
    message["X-Mailer"] = MAILER
    for name, value in (headers or {}).items():
        message[name] = value
    images = InlineImages(_domain(profile.envelope_sender))
    body = Renderer(redact=redact, image_source=images.source).report(report)
    message.set_content(html_to_text(body))
    message.add_alternative(_html_document(subject, body), subtype="html")
    html_part = message.get_payload()[-1]
    for cid, image in images.parts:
        maintype, subtype = image.mime_type.split("/")
        html_part.add_related(image.content, maintype, subtype, cid=f"<{cid}>",
                              disposition="inline")
    return message


class InlineImages:
    """The renderer's ``image_source`` for e-mail: each image gets a Content-ID."""

    def __init__(self, domain: str):
        self.domain = domain
        self.parts: list[tuple[str, Image]] = []

    def source(self, image: Image) -> str:
        cid = make_msgid(domain=self.domain)[1:-1]
        self.parts.append((cid, image))
        return f"cid:{cid}"


def _domain(address: str) -> str:
    # make_msgid would otherwise ask the resolver for this host's FQDN, which can stall
    return address.rpartition("@")[2] or "localhost"


def _html_document(subject: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(subject)}</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


def deliver(profile: SmtpProfile, message: EmailMessage) -> str:
    """Send ``message`` to the profile's recipients; returns a one-line description."""
    try:
        refused = _send(profile, message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise DeliveryError(f"all recipients refused: {_refusals(exc.recipients)}",
                            transient=all(400 <= code < 500 for code in codes)) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"authentication as {profile.user!r} rejected: "
                            f"{_reply(exc.smtp_code, exc.smtp_error)}", transient=False) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"server does not support it: {exc}", transient=False) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"server replied {_reply(exc.smtp_code, exc.smtp_error)}",
                            transient=400 <= exc.smtp_code < 500) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise DeliveryError(f"server closed the connection: {exc or 'unexpectedly'}",
                            transient=True) from None
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(f"TLS certificate not trusted: {exc.verify_message or exc}",
                            transient=False) from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"TLS failed: {exc.reason or exc}", transient=False) from None
    except (socket.timeout, TimeoutError):
        raise DeliveryError(f"timed out after {profile.timeout:g} s", transient=True) from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"SMTP error: {exc}", transient=False) from None
    except OSError as exc:
        raise DeliveryError(f"cannot connect to {profile.hostname}:{profile.port}: "
                            f"{exc.strerror or exc}", transient=True) from None
    text = f"sent to {', '.join(profile.recipients)}"
    if refused:
        text += f"; refused: {_refusals(refused)}"
    return text


def _send(profile: SmtpProfile, message: EmailMessage) -> dict:
    context = tls_context(profile)
    if profile.security == "ssl":
        client = smtplib.SMTP_SSL(profile.hostname, profile.port, timeout=profile.timeout,
                                  context=context)
    else:
        client = smtplib.SMTP(profile.hostname, profile.port, timeout=profile.timeout)
    with client:
        client.ehlo()
        if profile.security == "starttls":
            if not client.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError("STARTTLS is not offered by the server")
            client.starttls(context=context)
            client.ehlo()
        if profile.uses_auth:
            client.login(profile.user, profile.password)
        return client.send_message(message, from_addr=profile.envelope_sender,
                                   to_addrs=list(profile.recipients))


def tls_context(profile: SmtpProfile) -> ssl.SSLContext:
    """Verifies the server's certificate and host name, against ``cafile`` when given."""
    if profile.cafile:
        return ssl.create_default_context(cafile=str(profile.cafile))
    return ssl.create_default_context()


def _reply(code, error) -> str:
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return f"{code} {' '.join(text.split())}"


def _refusals(recipients: dict) -> str:
    return "; ".join(f"{address} ({_reply(code, error)})"
                     for address, (code, error) in recipients.items())
