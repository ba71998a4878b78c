"""``file`` arguments at run time follow the data-file name rules (issue 13): a job stored before
them (or copied by ``migrate``) cannot read the datastore, its lock or a hidden file."""
from __future__ import annotations

import pytest

from bots_scheduler.executions.steps import ArgumentError, resolve_data_file


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("datastore.db", "datastore.db.lock", "datastore.db-wal", ".hidden.txt",
                 "ips.txt"):
        (folder / name).write_text("x\n")
    (folder / "lists").mkdir()
    (folder / "lists" / "hosts.lst").write_text("h\n")
    return folder


@pytest.mark.parametrize("value", ["datastore.db", "datastore.db.lock", "datastore.db-wal",
                                   ".hidden.txt", "../data/ips.txt", "lists/../ips.txt",
                                   "/etc/passwd", "ips.txt\n", "%2e%2e/ips.txt", "", None, 3])
def test_names_the_files_api_refuses_fail_the_run(data_dir, value):
    with pytest.raises(ArgumentError):
        resolve_data_file(value, data_dir)


def test_data_files_resolve_to_their_absolute_path(data_dir):
    assert resolve_data_file("ips.txt", data_dir) == str(data_dir / "ips.txt")
    assert resolve_data_file("lists/hosts.lst", data_dir) == str(data_dir / "lists" / "hosts.lst")
