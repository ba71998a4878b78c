"""The error kinds (bots_scheduler.errors) and their one translation per edge: HTTP
(web/errors.py) and the command line (cli/main.py)."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from bots_scheduler import errors
from bots_scheduler.cli.main import main
from bots_scheduler.datafiles.validation import (DataFileConflict, DataFileError,
                                                 DataFileNotFound, DataFileTooLarge,
                                                 DataFolderNotWritable)
from bots_scheduler.datastore.store import DatastoreUnavailable
from bots_scheduler.executors.celery_app import BrokerUnavailable
from bots_scheduler.scheduling.jobspec import InvalidJob
from bots_scheduler.scheduling.scheduler import JobNotFound
from bots_scheduler.executions.stop import ExecutionNotFound, NotStoppable
from bots_scheduler.transfer import TransferError
from bots_scheduler.web.errors import ApiError, http_answer

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("error", "status"), [
    (InvalidJob("name is required"), 400),
    (TransferError("jobs must be a list"), 400),
    (DataFileError("file name is empty"), 400),
    (errors.UsageError("--port must be a whole number"), 400),
    (JobNotFound("j1"), 404),
    (ExecutionNotFound("e1"), 404),
    (DataFileNotFound("no data file 'a.txt'"), 404),
    (NotStoppable("execution e1 has already ended (succeeded)"), 409),
    (DataFileConflict("a.txt already exists"), 409),
    (DataFileTooLarge("file is larger than the limit of 1 KiB"), 413),
    (errors.Forbidden("forbidden"), 403),
    (DataFolderNotWritable("cannot write in the data folder"), 507),
])
def test_each_kind_of_error_has_its_http_status_and_keeps_its_message(error, status):
    assert http_answer(error) == (status, str(error))


def test_the_not_found_errors_name_what_is_missing():
    assert http_answer(JobNotFound("j1")) == (404, "no job with id 'j1'")
    assert http_answer(ExecutionNotFound("e1")) == (404, "no execution with id 'e1'")


def test_an_unavailable_service_is_a_503_that_does_not_tell_its_address():
    down = DatastoreUnavailable("cannot reach the postgresql datastore postgresql://u:***@db/x")
    assert http_answer(down) == (503, "the datastore is unavailable; try again shortly")
    broker = BrokerUnavailable("cannot reach the broker redis://10.0.0.1:6379/0: refused")
    assert http_answer(broker) == (503, "the broker is unavailable; try again shortly")
    lost = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    assert http_answer(lost) == (503, "the datastore is unavailable; try again shortly")


def test_the_web_layers_own_refusals_carry_their_status():
    assert http_answer(ApiError(405, "use PUT")) == (405, "use PUT")


def test_a_bug_of_ours_is_not_translated():
    assert http_answer(KeyError("x")) is None       # a 500, with its traceback in the log
    assert http_answer(None) is None


def test_the_kinds_stay_what_callers_catch():
    # code that predates the error module catches the built-in bases
    assert isinstance(JobNotFound("j"), LookupError)
    assert isinstance(InvalidJob("x"), ValueError)
    assert isinstance(DataFileNotFound("x"), DataFileError)


def test_the_command_line_prints_any_of_our_errors_as_one_line_and_exits_2(tmp_path, capsys,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").write_text("a file where the data folder should be")
    assert main(["run", "--local"]) == 2
    err = capsys.readouterr().err
    assert err == "bots-scheduler run: error: --data-dir: data exists and is not a folder\n"
