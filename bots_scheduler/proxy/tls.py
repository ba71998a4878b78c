"""The --certificate PEM file, checked before anything starts (mitmproxy would fail later)."""
from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bots_scheduler.errors import UsageError

MAX_PEM_BYTES = 1 << 20


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
