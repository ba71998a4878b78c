"""The checks of command-line and INI values (bots_scheduler/checks.py): the value in its final
type, or a UsageError whose one line names the option."""
from __future__ import annotations

import pytest

from bots_scheduler import checks
from bots_scheduler.errors import UsageError

pytestmark = pytest.mark.unit


def refused(fn, *args) -> str:
    with pytest.raises(UsageError) as caught:
        fn(*args)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("text", "size"), [("1048576", 1 << 20), ("512KiB", 512 << 10),
                                            ("10MiB", 10 << 20), ("1G", 1 << 30),
                                            (" 2 mb ", 2 << 20), ("7b", 7)])
def test_sizes_in_binary_units(text, size):
    assert checks.byte_size("--max-file-size", text) == size


@pytest.mark.parametrize("text", ["ten", "1.5MiB", "10TB", "-5", ""])
def test_a_size_that_is_not_one_names_the_option(text):
    assert refused(checks.byte_size, "--max-file-size", text).startswith("--max-file-size must be")


def test_a_zero_size_is_refused():
    assert refused(checks.byte_size, "--max-file-size", "0") == \
        "--max-file-size must be at least 1 byte"


def test_whole_numbers_and_their_minimum():
    assert checks.positive_int("--threadpool-size", "4") == 4
    assert checks.non_negative_int("--keep-runs", "0") == 0
    assert refused(checks.positive_int, "--threadpool-size", "0") == \
        "--threadpool-size must be at least 1, not 0"
    assert refused(checks.whole_number, "--job-misfire", "1.5") == \
        "--job-misfire must be a whole number, not '1.5'"


def test_job_timeout_zero_means_no_limit_and_seven_days_is_the_most():
    assert checks.job_timeout("0") is None
    assert checks.job_timeout("604800") == 604800.0
    assert "at most 604800 seconds" in refused(checks.job_timeout, "604801")


@pytest.mark.parametrize(("text", "expected"), [("1", 1), ("8888", 8888), ("65534", 65534)])
def test_ports_leave_room_for_the_scheduler_on_port_plus_one(text, expected):
    assert checks.port_number(text) == expected


@pytest.mark.parametrize("text", ["0", "65535", "http", "-1"])
def test_bad_ports_are_refused(text):
    assert refused(checks.port_number, text).startswith("--port must be")


def test_time_zones_are_iana_names():
    assert checks.timezone_name("Europe/Brussels") == "Europe/Brussels"
    assert "unknown time zone 'Mars/Olympus'" in refused(checks.timezone_name, "Mars/Olympus")


@pytest.mark.parametrize("name", ["scheduler_jobs", "_t", "T2", "a" * 63])
def test_plain_sql_identifiers_are_table_names(name):
    assert checks.table_name("--jobs-table", name) == name


@pytest.mark.parametrize("name", ["", "2jobs", "jobs; DROP TABLE x", "a-b", "a" * 64, "é"])
def test_anything_else_is_not_a_table_name(name):
    assert refused(checks.table_name, "--jobs-table", name).startswith("--jobs-table: ")


def test_given_job_folders_must_exist_the_default_may_be_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert checks.jobs_folders(None, ("jobs",)) == ()
    (tmp_path / "jobs").mkdir()
    assert [p.name for p in checks.jobs_folders(None, ("jobs",))] == ["jobs"]
    assert refused(checks.jobs_folders, ["missing"], ("jobs",)) == \
        "--jobs: missing does not exist or is not a folder"


def test_a_data_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "data").write_text("x")
    assert refused(checks.data_directory, tmp_path / "data").endswith("exists and is not a folder")
    assert checks.data_directory(tmp_path / "new") == tmp_path / "new"


def test_ini_files_that_cannot_be_read_or_parsed(tmp_path):
    good = tmp_path / "db.ini"
    good.write_text("[sqlite]\nfile_path = x.db\n")
    assert checks.read_ini("--db-config", good)["sqlite"]["file_path"] == "x.db"
    broken = tmp_path / "broken.ini"
    broken.write_text("no section header\n")
    assert "is not a valid INI file" in refused(checks.read_ini, "--db-config", broken)
    assert "cannot read" in refused(checks.read_ini, "--db-config", tmp_path / "missing.ini")
