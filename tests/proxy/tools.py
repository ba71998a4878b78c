"""Helpers of the proxy tests: htpasswd files made by Apache's real tool, HTTPS clients."""
from __future__ import annotations

import socket
import ssl
import subprocess
import warnings
from pathlib import Path

import requests
from urllib3.exceptions import InsecureRequestWarning

FORMAT_FLAGS = {"bcrypt": ["-B", "-C", "5"], "apr1": ["-m"], "sha1": ["-s"]}


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
    """A self-signed key and certificate made by openssl: (combined PEM, key, certificate)."""
    key, cert = folder / f"{name}.key", folder / f"{name}.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    combined = folder / f"{name}.pem"
    combined.write_bytes(cert.read_bytes() + key.read_bytes())
    return combined, key, cert
