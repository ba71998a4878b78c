"""`./bots-scheduler` at the root of a checkout does what the console script does."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bots_scheduler import __version__

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes

ROOT = Path(__file__).resolve().parents[2]


def test_the_checkout_script_runs_from_any_python_and_any_folder(tmp_path):
    system_python = shutil.which("python3")
    done = subprocess.run([system_python, str(ROOT / "bots-scheduler"), "--version"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"bots-scheduler {__version__}"


def test_the_checkout_script_and_the_console_script_share_the_same_commands(tmp_path):
    script = subprocess.run([str(ROOT / "bots-scheduler"), "run", "--help"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    console = subprocess.run([str(ROOT / ".venv" / "bin" / "bots-scheduler"), "run", "--help"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert script.returncode == console.returncode == 0
    assert script.stdout == console.stdout
