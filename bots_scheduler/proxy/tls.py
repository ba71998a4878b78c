"""The proxy's server certificate: the --certificate PEM file, checked before anything starts
(mitmproxy would fail later), or our own self-signed one, made at the first start.

The proxy is a reverse proxy: it needs a server certificate for its own names, never a CA
(mitmproxy's CA would sign certificates for any host, and trusting it would let whoever reads
its key intercept the user's traffic to any site). Without --certificate we make a self-signed
certificate for this host's name, ``localhost`` and ``127.0.0.1`` (ECDSA P-256), keep it with
its key, mode 0600, beside the htpasswd file, and print its SHA-256 fingerprint so users can
check or pin it. It is renewed (new fingerprint, said in the log) shortly before it expires.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bots_scheduler.errors import UsageError
from bots_scheduler.private_files import write_private

MAX_PEM_BYTES = 1 << 20
OWN_CERTIFICATE_NAME = ".proxy-certificate.pem"
VALID_DAYS = 397              # the longest validity browsers accept for a server certificate
RENEW_DAYS_BEFORE_END = 30


def validate_certificate(path) -> Path:
    """An unencrypted private key and its certificate (leaf first, chain may follow) in one PEM."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--certificate: {path} does not exist or is not a file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"--certificate: {path} is not readable")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_PEM_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--certificate: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_PEM_BYTES:
        raise UsageError(f"--certificate: {path} is too large for a PEM file")
    certificates = _certificates(path, data)
    key = _private_key(path, data)
    if _public_bytes(certificates[0].public_key()) != _public_bytes(key.public_key()):
        raise UsageError(f"--certificate: the private key in {path} does not match its first "
                         f"certificate (the leaf certificate must come first)")
    return path


def _certificates(path: Path, data: bytes) -> list:
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise UsageError(f"--certificate: {path} holds no PEM certificate "
                         f"(expected the private key and the certificate in one file)")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise UsageError(f"--certificate: {path}: malformed certificate ({_first_line(exc)})"
                         ) from None


def _private_key(path: Path, data: bytes):
    if b"PRIVATE KEY-----" not in data:
        raise UsageError(f"--certificate: {path} holds no PEM private key "
                         f"(expected the private key and the certificate in one file)")
    if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data or b"Proc-Type: 4,ENCRYPTED" in data:
        raise UsageError(f"--certificate: the private key in {path} is encrypted; "
                         f"the proxy needs it without a passphrase")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--certificate: {path}: malformed private key ({_first_line(exc)})"
                         ) from None
    except Exception as exc:  # cryptography raises its own types for unsupported keys
        raise UsageError(f"--certificate: {path}: unusable private key ({_first_line(exc)})"
                         ) from None


def _public_bytes(public_key) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def fingerprint(path) -> str:
    """SHA-256 of the first certificate of a PEM file, as ``openssl x509 -fingerprint -sha256``."""
    certificate = x509.load_pem_x509_certificates(Path(path).read_bytes())[0]
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def own_certificate(folder: Path, now: datetime.datetime | None = None) -> tuple[Path, bool]:
    """Our self-signed certificate in ``folder``, made when missing, unusable or about to expire.

    Returns (path, made now). The file holds the key and the certificate, mode 0600.
    """
    path = Path(folder) / OWN_CERTIFICATE_NAME
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if path.exists() and _still_good(path, now):
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return path, False
    write_private(path, _self_signed(now))
    return path, True


def _still_good(path: Path, now: datetime.datetime) -> bool:
    try:
        validate_certificate(path)
        certificate = x509.load_pem_x509_certificates(path.read_bytes())[0]
    except (UsageError, ValueError, OSError):
        return False
    return certificate.not_valid_after_utc - now > datetime.timedelta(days=RENEW_DAYS_BEFORE_END)


def _self_signed(now: datetime.datetime) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    host = socket.gethostname() or "localhost"
    dns_names = list(dict.fromkeys([host, "localhost"]))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bots Scheduler")])
    alt_names = [x509.DNSName(n) for n in dns_names] + \
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
         x509.IPAddress(ipaddress.ip_address("::1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem + certificate.public_bytes(Encoding.PEM)
