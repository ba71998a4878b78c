"""``run --max-file-size``: the size limit of uploads."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.datafiles.multipart import upload

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes


def bots(*args, cwd):
    return subprocess.run([sys.executable, "-m", "bots_scheduler", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_help_shows_the_option_with_its_default_among_the_base_options(tmp_path):
    done = bots("run", "--help", cwd=tmp_path)
    base = done.stdout.split("base options:")[1].split("notification options:")[0]
    assert "--max-file-size MAX_FILE_SIZE" in base
    assert "(default: 10MiB)" in " ".join(base.split())


@pytest.mark.parametrize("value", ["ten", "0", "-5", "10TB", "1.5MiB"])
def test_a_bad_size_ends_run_with_one_line_and_status_2(tmp_path, value):
    done = bots("run", "--local", "--max-file-size", value, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--max-file-size" in lines[0]
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("value, accepted, refused", [("2KiB", 2048, 2049), ("3000", 3000, 3001)])
def test_the_limit_given_is_the_limit_applied(server, value, accepted, refused):
    srv = server("--max-file-size", value)
    assert upload(srv, "fits.txt", b"x" * (accepted - 1) + b"\n").status_code == 201
    r = upload(srv, "over.txt", b"x" * (refused - 1) + b"\n")
    assert r.status_code == 413, r.text
