"""--certificate: one PEM with an unencrypted key and its certificate, checked before start."""
from __future__ import annotations

import pytest

from bots_scheduler.proxy.tls import validate_certificate
from bots_scheduler.errors import UsageError
from tests.proxy.tools import encrypted_key, make_certificate


@pytest.fixture(scope="module")
def pem(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("pem"))


def refusal(path) -> str:
    with pytest.raises(UsageError) as info:
        validate_certificate(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith("--certificate")
    return message


def test_a_certificate_followed_by_its_key_is_accepted(pem):
    combined, _, _ = pem
    assert validate_certificate(combined) == combined


def test_the_key_may_come_before_the_certificate(pem, tmp_path):
    _, key, cert = pem
    path = tmp_path / "key-first.pem"
    path.write_bytes(key.read_bytes() + cert.read_bytes())
    assert validate_certificate(path) == path


def test_a_missing_file_is_refused(tmp_path):
    assert "does not exist" in refusal(tmp_path / "nope.pem")


def test_a_folder_is_refused(tmp_path):
    assert "not a file" in refusal(tmp_path)


def test_a_file_that_is_not_pem_is_refused(tmp_path):
    path = tmp_path / "junk.pem"
    path.write_bytes(b"\x00\x01 not a certificate")
    assert "no PEM certificate" in refusal(path)


def test_a_certificate_without_key_is_refused(pem):
    assert "no PEM private key" in refusal(pem[2])


def test_a_key_without_certificate_is_refused(pem):
    assert "no PEM certificate" in refusal(pem[1])


def test_a_damaged_certificate_is_refused(pem, tmp_path):
    _, key, cert = pem
    lines = cert.read_text().splitlines()
    lines[3] = lines[3][::-1]
    path = tmp_path / "damaged.pem"
    path.write_text("\n".join(lines) + "\n" + key.read_text())
    assert "malformed certificate" in refusal(path)


def test_a_key_of_another_certificate_is_refused(pem, tmp_path):
    _, other_key, _ = make_certificate(tmp_path, "other")
    path = tmp_path / "mismatch.pem"
    path.write_bytes(pem[2].read_bytes() + other_key.read_bytes())
    assert "does not match" in refusal(path)


def test_an_encrypted_key_is_refused(pem, tmp_path):
    path = tmp_path / "encrypted.pem"
    path.write_bytes(pem[2].read_bytes() + encrypted_key(pem[1], b"passphrase"))
    assert "encrypted" in refusal(path)
