"""Helpers of the proxy tests: htpasswd files made by Apache's real tool, HTTPS clients."""
from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import subprocess
import warnings
from pathlib import Path

import requests

from tests.support.waiting import wait_until  # noqa: F401  (the proxy tests' import)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from urllib3.exceptions import InsecureRequestWarning

FORMAT_FLAGS = {"bcrypt": ["-B", "-C", "5"], "apr1": ["-m"], "sha1": ["-s"], "sha256": ["-2"],
                "sha512": ["-5"]}


def htpasswd_tool(path: Path, user: str, password: str, fmt: str = "bcrypt") -> None:
    """Add a user with Apache's ``htpasswd`` (apache2-utils), creating the file if needed."""
    create = [] if Path(path).exists() else ["-c"]
    subprocess.run(["htpasswd", "-b", *create, *FORMAT_FLAGS[fmt], str(path), user, password],
                   check=True, capture_output=True)


def https(method: str, url: str, **kwargs) -> requests.Response:
    kwargs.setdefault("verify", False)
    kwargs.setdefault("timeout", 30)
    kwargs.setdefault("allow_redirects", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)  # the proxy's own certificate
        return requests.request(method, url, **kwargs)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def served_certificate(port: int) -> bytes:
    """The DER certificate the proxy presents."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.getpeercert(binary_form=True)


def make_certificate(folder: Path, name: str = "proxy") -> tuple[Path, Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1: (combined PEM, key, certificate)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    combined = folder / f"{name}.pem"
    combined.write_bytes(cert_path.read_bytes() + key_path.read_bytes())
    return combined, key_path, cert_path


def der(cert_path: Path) -> bytes:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return cert.public_bytes(serialization.Encoding.DER)


def encrypted_key(key_path: Path, passphrase: bytes) -> bytes:
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase))


