"""The data folder and its table (bots_scheduler.datafiles.storage), on a real SQLite datastore."""
import os
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy
from sqlalchemy import select

from bots_scheduler.datafiles.storage import TEMP_PREFIX, TEMP_SUFFIX, DataFiles
from bots_scheduler.datafiles.validation import DataFileError
from bots_scheduler.datastore.store import Datastore
from bots_scheduler.executions.store import ExecutionStore
from bots_scheduler.jobs.base import JobBase
from bots_scheduler.jobs.loader import JobRegistry
from bots_scheduler.settings import DatabaseSettings
from bots_scheduler.web.errors import http_answer  # the status the API answers with


@pytest.fixture
def store(tmp_path):
    url = sqlalchemy.URL.create("sqlite", database=str(tmp_path / "db.sqlite"))
    datastore = Datastore(DatabaseSettings("sqlite", "sqlite", url))
    datastore.create_tables()
    yield datastore
    datastore.dispose()


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def files(data_dir, store):
    return DataFiles(data_dir, store, max_size=1024,
                     audit=ExecutionStore(store.engine, store.tables))


def rows(store):
    with store.engine.connect() as conn:
        return {r.filename: r for r in conn.execute(select(store.tables.files))}


def logs(store):
    with store.engine.connect() as conn:
        return [(r.event, r.user, r.description)
                for r in conn.execute(select(store.tables.logs).order_by(store.tables.logs.c.id))]


def leftovers(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_an_added_file_is_on_disk_in_the_table_and_in_the_audit_log(files, store, data_dir):
    info = files.add("ips.txt", b"# Office\n192.0.2.1\n192.0.2.2\n", "alice")
    assert (data_dir / "ips.txt").read_bytes() == b"# Office\n192.0.2.1\n192.0.2.2\n"
    assert info["filename"] == "ips.txt" and info["description"] == "Office"
    assert info["entries"] == 2 and info["size"] == 29 and info["user"] == "alice"
    assert info["created_time"].endswith("+00:00")
    assert rows(store)["ips.txt"].entries == 2
    assert logs(store) == [("file added", "alice", "ips.txt uploaded: 2 entries, 29 bytes")]


def test_a_file_may_go_into_a_sub_folder_that_is_created(files, data_dir):
    files.add("lists/2024/ips.lst", b"192.0.2.1\n", "alice")
    assert (data_dir / "lists" / "2024" / "ips.lst").is_file()
    assert files.exists("lists/2024/ips.lst")


def test_an_existing_name_is_refused_with_409_unless_replacing(files, store, data_dir):
    files.add("ips.txt", b"192.0.2.1\n", "alice")
    with pytest.raises(DataFileError) as caught:
        files.add("ips.txt", b"198.51.100.1\n", "bob")
    assert http_answer(caught.value)[0] == 409 and "already exists" in caught.value.message
    assert (data_dir / "ips.txt").read_bytes() == b"192.0.2.1\n"
    files.add("ips.txt", b"198.51.100.1\n198.51.100.2\n", "bob", replace=True)
    assert (data_dir / "ips.txt").read_bytes() == b"198.51.100.1\n198.51.100.2\n"
    assert rows(store)["ips.txt"].user == "bob" and rows(store)["ips.txt"].entries == 2
    assert logs(store)[-1][2].startswith("ips.txt replaced")


@pytest.mark.parametrize("content", [b"bad\x00", b"\xff\xfe", b"x" * 2000])
def test_a_refused_upload_leaves_no_file_no_folder_and_no_row(files, store, data_dir, content):
    with pytest.raises(DataFileError):
        files.add("new/sub/ips.txt", content, "alice")
    assert leftovers(data_dir) == []
    assert rows(store) == {} and logs(store) == []


def test_an_aborted_upload_leaves_nothing_and_a_pending_one_is_only_a_hidden_temporary(
        files, store, data_dir):
    upload = files.start_upload("lists/ips.txt", "alice")
    upload.write(b"192.0.2.1\n")
    pending = leftovers(data_dir)
    assert pending[0] == "lists" and pending[1].startswith("lists/" + TEMP_PREFIX)
    assert not (data_dir / "lists" / "ips.txt").exists()
    upload.abort()
    assert leftovers(data_dir) == [] and rows(store) == {}


def test_an_upload_into_an_existing_folder_keeps_the_folder_when_aborted(files, data_dir):
    (data_dir / "lists").mkdir()
    upload = files.start_upload("lists/ips.txt", "alice")
    upload.abort()
    assert leftovers(data_dir) == ["lists"]


def test_a_symlink_leading_outside_cannot_be_written_through(files, data_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (data_dir / "escape").symlink_to(outside)
    with pytest.raises(DataFileError) as caught:
        files.add("escape/ips.txt", b"192.0.2.1\n", "alice")
    assert "leads outside the data folder" in caught.value.message
    assert list(outside.iterdir()) == []


def test_a_symlink_inside_the_data_folder_is_followed(files, data_dir):
    (data_dir / "real").mkdir()
    (data_dir / "alias").symlink_to(data_dir / "real")
    files.add("alias/ips.txt", b"192.0.2.1\n", "alice")
    assert (data_dir / "real" / "ips.txt").is_file()


def test_a_file_in_the_way_of_a_folder_is_a_conflict(files, data_dir):
    files.add("lists.txt", b"x\n", "alice")
    with pytest.raises(DataFileError) as caught:
        files.add("lists.txt/ips.txt", b"x\n", "alice")
    assert http_answer(caught.value)[0] == 409


def test_delete_removes_file_row_and_empty_folders_and_logs_it(files, store, data_dir):
    files.add("lists/ips.txt", b"192.0.2.1\n", "alice")
    assert files.delete("lists/ips.txt", "bob") == {"file": "lists/ips.txt"}
    assert leftovers(data_dir) == [] and rows(store) == {}
    assert logs(store)[-1] == ("file deleted", "bob", "lists/ips.txt")


def test_deleting_an_unknown_file_is_404(files):
    with pytest.raises(DataFileError) as caught:
        files.delete("nothing.txt", "bob")
    assert http_answer(caught.value)[0] == 404


def test_deleting_a_file_used_by_jobs_is_refused_naming_them_unless_forced(files, store, data_dir):
    files.add("ips.txt", b"192.0.2.1\n", "alice")
    users = [{"job_id": "j1", "name": "Nightly scan"}]
    with pytest.raises(DataFileError) as caught:
        files.delete("ips.txt", "bob", used_by=users)
    assert http_answer(caught.value)[0] == 409
    assert "'Nightly scan' (j1)" in caught.value.message and "force" in caught.value.message
    assert (data_dir / "ips.txt").exists()
    files.delete("ips.txt", "bob", used_by=users, force=True)
    assert not (data_dir / "ips.txt").exists()
    assert logs(store)[-1] == ("file deleted", "bob", "ips.txt; forced while used by 1 job(s)")


class _ScanJob(JobBase):
    info = {"arguments": [{"type": "string", "description": "key"},
                          {"type": "file", "description": "IPs"}]}


def test_jobs_using_a_file_are_those_with_it_at_a_file_argument(files, data_dir):
    registry = JobRegistry({"scan.ScanJob": _ScanJob})
    jobs = [{"job_id": "1", "name": "a", "job_class_string": "scan.ScanJob",
             "pub_args": ["KEY", "ips.txt"]},
            {"job_id": "2", "name": "b", "job_class_string": "scan.ScanJob",
             "pub_args": ["KEY", "./lists/../ips.txt"]},
            {"job_id": "3", "name": "c", "job_class_string": "scan.ScanJob",
             "pub_args": ["ips.txt", "other.txt"]},          # a string argument, not a file one
            {"job_id": "4", "name": "d", "job_class_string": "gone.Job",
             "pub_args": ["KEY", "ips.txt"]},
            {"job_id": "5", "name": "e", "job_class_string": "scan.ScanJob",
             "pub_args": ["KEY"]}]
    assert [job["job_id"] for job in files.jobs_using("ips.txt", jobs, registry)] == ["1", "2"]


def test_listing_is_newest_first_with_a_time_range_and_paging(files, store):
    for name in ("a.txt", "b.txt", "c.txt"):
        files.add(name, b"x\n", "alice")
    listed, total = files.list()
    assert [f["filename"] for f in listed] == ["c.txt", "b.txt", "a.txt"] and total == 3
    page, total = files.list(limit=1, offset=1)
    assert [f["filename"] for f in page] == ["b.txt"] and total == 3
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert files.list(start=future) == ([], 0)


def test_synchronise_adds_hand_copied_files_and_forgets_removed_ones(files, store, data_dir):
    files.add("gone.txt", b"x\n", "alice")
    os.unlink(data_dir / "gone.txt")
    (data_dir / "lists").mkdir()
    (data_dir / "lists" / "copied.lst").write_bytes(b"# Copied by hand\na\nb\nc\n")
    summary = files.synchronise("operator")
    assert summary == {"added": ["lists/copied.lst"], "changed": [], "removed": ["gone.txt"]}
    row = rows(store)["lists/copied.lst"]
    assert (row.description, row.entries, row.user) == ("Copied by hand", 3, "operator")
    assert ("file added", "operator", "lists/copied.lst: found in the data folder at start-up") \
        in logs(store)
    assert ("file deleted", "operator", "gone.txt: no longer in the data folder at start-up") \
        in logs(store)


def test_synchronise_rereads_a_file_edited_by_hand(files, store, data_dir):
    files.add("ips.txt", b"a\n", "alice")
    (data_dir / "ips.txt").write_bytes(b"# Edited\na\nb\n")
    assert files.synchronise("operator")["changed"] == ["ips.txt"]
    row = rows(store)["ips.txt"]
    assert (row.description, row.entries, row.user) == ("Edited", 2, "alice")


def test_synchronise_skips_invalid_files_hidden_files_and_outside_links(files, store, data_dir,
                                                                        tmp_path):
    (data_dir / "binary.txt").write_bytes(b"\x00\x01")
    (data_dir / "image.png").write_bytes(b"x")
    (data_dir / ".hidden.txt").write_bytes(b"x\n")
    (data_dir / "huge.txt").write_bytes(b"x" * 2000)
    (tmp_path / "secret.txt").write_bytes(b"secret\n")
    (data_dir / "link.txt").symlink_to(tmp_path / "secret.txt")
    (data_dir / "inside.txt").symlink_to(data_dir / "huge.txt")
    (data_dir / "ok.txt").write_bytes(b"fine\n")
    assert files.synchronise("operator")["added"] == ["ok.txt"]
    assert set(rows(store)) == {"ok.txt"}


def test_synchronise_removes_temporaries_left_by_a_crash(files, data_dir):
    stale = data_dir / f"{TEMP_PREFIX}abc{TEMP_SUFFIX}"
    stale.write_bytes(b"half an upl")
    files.synchronise("operator")
    assert not stale.exists()


def test_synchronise_twice_changes_nothing_the_second_time(files, data_dir):
    (data_dir / "a.txt").write_bytes(b"a\n")
    files.synchronise("operator")
    assert files.synchronise("operator") == {"added": [], "changed": [], "removed": []}


def test_missing_lists_the_recorded_files_this_folder_lacks(files, data_dir):
    files.add("kept.txt", b"1.2.3.4\n", "alice")
    files.add("lost.txt", b"5.6.7.8\n", "alice")
    assert files.missing() == []
    (data_dir / "lost.txt").unlink()     # a worker whose data folder is not the schedulers'
    assert files.missing() == ["lost.txt"]
