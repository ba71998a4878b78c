"""Defaults are declared once (defaults.py): what `run` uses when given nothing is what the
Settings object declares, and what --help shows."""
from __future__ import annotations

import dataclasses

import pytest

from bots_scheduler import defaults
from bots_scheduler.checks import byte_size, size_text
from bots_scheduler.cli.definition import build_parser
from bots_scheduler.settings import DatabaseSettings, Settings, build_run_settings

pytestmark = pytest.mark.unit


def _declared(cls):
    return {f.name: f.default for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING}


def test_run_without_options_gives_the_settings_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)           # no conf/, no jobs/: the embedded SQLite datastore
    settings = build_run_settings(build_parser().parse_args(["run"]))
    for name, default in _declared(Settings).items():
        assert getattr(settings, name) == default, name
    for name, default in _declared(DatabaseSettings).items():
        assert getattr(settings.database, name) == default, name
    assert settings.data_dir.as_posix() == defaults.DATA_DIR


def test_help_shows_the_declared_defaults(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in (f"(default: {defaults.PORT})", f"(default: {defaults.JOBS_TABLE})",
                  f"(default: {defaults.JOB_TIMEOUT})", "(default: 10MiB)"):
        assert shown in text


@pytest.mark.parametrize("size", [1, 1023, 1024, 1536 * 1024, 10 * 1024 * 1024, 3 << 30])
def test_size_text_reads_back_as_the_same_size(size):
    assert byte_size("--max-file-size", size_text(size)) == size
