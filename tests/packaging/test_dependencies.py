"""The installed environment: Python and the dependencies whose older releases have published
advisories (issue 13). Reads the versions actually installed, not the pins."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]

# the first release that fixed each advisory
FIXED = {
    "tornado": "6.5",        # CVE-2025-47287 (multipart log flood) and later 6.5.x fixes
    "h11": "0.16.0",         # CVE-2025-43859 (chunked-encoding request smuggling)
    "h2": "4.3.0",           # GHSA-847f-9342-265h (CR/LF in HTTP/2 header values)
    "mitmproxy": "12.3",
}


def test_python_is_one_the_package_admits():
    assert sys.version_info[:2] >= (3, 12)
    with open(ROOT / "pyproject.toml", "rb") as handle:
        requires = tomllib.load(handle)["project"]["requires-python"]
    assert requires == ">=3.12"


@pytest.mark.parametrize("name,fixed", sorted(FIXED.items()))
def test_installed_version_has_the_fix(name, fixed):
    assert Version(importlib.metadata.version(name)) >= Version(fixed)


def test_passlib_is_replaced_by_its_maintained_fork_and_censys_is_gone():
    assert Version(importlib.metadata.version("libpass")) >= Version("1.9")
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.version("passlib")
    requirements = " ".join(importlib.metadata.requires("bots-scheduler") or ())
    assert "censys" not in requirements and "passlib" not in requirements


def test_no_module_of_the_package_imports_censys():
    sources = (ROOT / "bots_scheduler").rglob("*.py")
    offenders = [str(path) for path in sources
                 if any(line.strip().startswith(("import censys", "from censys"))
                        for line in path.read_text().splitlines())]
    assert offenders == []


def test_find_python_prints_an_admitted_interpreter_and_the_oldest_for_tests():
    newest = subprocess.run([ROOT / "scripts" / "find-python"], capture_output=True, text=True)
    oldest = subprocess.run([ROOT / "scripts" / "find-python", "--oldest"], capture_output=True,
                            text=True)
    versions = []
    for result in (newest, oldest):
        assert result.returncode == 0, result.stderr
        out = subprocess.run([result.stdout.strip(), "-c",
                              "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.split()
        versions.append(tuple(map(int, out)))
    assert all(version >= (3, 12) for version in versions)
    assert versions[1] <= versions[0]


def test_find_python_says_in_one_line_what_is_missing(tmp_path):
    # a PATH with no Python at all and no pyenv
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sed", "seq", "ls", "grep", "sort", "dirname", "basename"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True,
                               text=True).stdout.strip()
        (bin_dir / tool).symlink_to(found)
    result = subprocess.run([ROOT / "scripts" / "find-python"], capture_output=True, text=True,
                            env={"PATH": str(bin_dir), "HOME": str(tmp_path),
                                 "PYENV_ROOT": str(tmp_path / "nopyenv")})
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Python >= 3.12 found" in lines[0]
