"""Real SMTP servers for the tests: aiosmtpd on free loopback ports, plain, implicit TLS or
STARTTLS, with or without AUTH, and a self-signed certificate made on the spot."""
from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


def make_self_signed(folder: Path) -> TlsFiles:
    """A certificate for localhost / 127.0.0.1 that is its own CA (usable as a cafile)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / "smtp-cert.pem", folder / "smtp-key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return files


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: str | None

    def part(self, subtype: str) -> str:
        return self.message.get_body(preferencelist=(subtype,)).get_content().replace("\r\n", "\n")


class Mailbox:
    """The aiosmtpd handler: keeps every accepted message; ``hold`` delays the DATA reply;
    the first ``busy`` messages get a temporary 451 refusal."""

    def __init__(self, hold: threading.Event | None = None, busy: int = 0):
        self.messages: list[Received] = []
        self.hold = hold
        self.busy = busy
        self.refused = 0
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.busy:
            self.refused += 1
            return "451 4.3.0 Busy, try again later"
        if self.hold is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, 30)
        transport_tls = server.transport.get_extra_info("ssl_object") is not None
        auth = session.auth_data
        received = Received(
            envelope.mail_from, list(envelope.rcpt_tos),
            message_from_bytes(envelope.original_content, policy=policy.default),
            tls=bool(session.ssl) or transport_tls,
            login=auth.login.decode() if auth is not None else None)
        with self._arrived:
            self.messages.append(received)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")
            return list(self.messages)


class SmtpServer:
    """``mode``: "unencrypted", "ssl" (implicit TLS) or "starttls" (required before MAIL)."""

    def __init__(self, mode: str, tls: TlsFiles, credentials: tuple[str, str] | None = None,
                 hold: threading.Event | None = None, busy: int = 0):
        self.mode = mode
        self.port = free_port()
        self.mailbox = Mailbox(hold, busy)
        self.auth_attempts: list[tuple[str, bool]] = []
        self.credentials = credentials
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.cert, tls.key)
        kwargs = {"hostname": "127.0.0.1", "port": self.port, "server_hostname": "localhost",
                  "ready_timeout": 10}
        if mode == "ssl":
            kwargs["ssl_context"] = context
        elif mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if credentials:
            kwargs["authenticator"] = self._authenticate
            # over implicit TLS aiosmtpd cannot tell the link is encrypted; over plain text the
            # tests check that AUTH works where the operator chose it
            kwargs["auth_require_tls"] = mode == "starttls"
        self.controller = Controller(self.mailbox, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode()
        ok = (login, auth_data.password.decode()) == self.credentials
        self.auth_attempts.append((login, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        return list(self.mailbox.messages)

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        return self.mailbox.wait_for(count, timeout)


def ini_section(name: str, fields: dict) -> str:
    lines = [f"[{name}]"] + [f"{key} = {value}" for key, value in fields.items()
                             if value is not None]
    return "\n".join(lines) + "\n\n"


def profile_fields(server: SmtpServer, tls: TlsFiles, **overrides) -> dict:
    """The INI fields of a profile that reaches ``server``."""
    fields = {"hostname": "127.0.0.1" if server.mode == "unencrypted" else "localhost",
              "port": server.port, "security": server.mode,
              "from": "Bots Scheduler <bots@example.org>", "to": "soc@example.org"}
    if server.mode != "unencrypted":
        fields["cafile"] = tls.cert
    if server.credentials:
        fields["user"], fields["password"] = server.credentials
    fields.update(overrides)
    return fields
