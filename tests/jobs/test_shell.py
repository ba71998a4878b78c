"""ShellCommand and RawShellCommand: no shell for tokens, timeouts, output limits, exit status."""
import os
import threading
import time

import pytest

from bots_scheduler import JobFailed
from bots_scheduler.jobs.builtin import _process
from bots_scheduler.jobs.builtin.shell import RawShellCommand, ShellCommand
from bots_scheduler.jobs.loader import JobRegistry
from tests.jobs.helpers import text_of


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:      # a zombie is not running any more
        return stat.read().split()[2] != "Z"


def test_shell_command_reports_stdout_stderr_and_exit_status(context):
    job = ShellCommand("j1", "e1", context)
    html = job.run("sh", "-c", "echo out; echo err >&2").html()
    text = text_of(html)
    assert "Standard output out" in text
    assert "Standard error err" in text
    assert "exit status 0" in text
    assert job._data == {"stdout": ["out"], "stderr": ["err"]}


def test_shell_command_does_not_go_through_a_shell(context):
    html = ShellCommand("j1", "e1", context).run("echo", "$HOME", "*", ";", "rm").html()
    assert "$HOME * ; rm" in text_of(html)


def test_shell_command_output_is_escaped_in_the_report(context):
    html = ShellCommand("j1", "e1", context).run("echo", "<script>alert(1)</script>").html()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_shell_command_runs_in_the_data_folder(context):
    html = ShellCommand("j1", "e1", context).run("pwd").html()
    assert str(context.data_dir) in text_of(html).split("Standard output")[1]


def test_non_zero_exit_fails_the_run_with_the_report(context):
    with pytest.raises(JobFailed) as failed:
        ShellCommand("j1", "e1", context).run("sh", "-c", "echo partial; exit 3")
    assert "exit status 3" in str(failed.value)
    text = text_of(failed.value.report_html)
    assert "Run failed" in text and "partial" in text and "exit status 3" in text


def test_unknown_program_fails_with_a_clear_message(context):
    with pytest.raises(JobFailed, match="cannot start no-such-program-xyz"):
        ShellCommand("j1", "e1", context).run("no-such-program-xyz")


def test_empty_command_fails(context):
    with pytest.raises(JobFailed, match="no command given"):
        ShellCommand("j1", "e1", context).run()


def test_timeout_given_after_a_token_list_kills_the_whole_process_group(context, tmp_path):
    pid_file = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pid_file}; echo started; wait"
    started = time.monotonic()
    with pytest.raises(JobFailed) as failed:
        ShellCommand("j1", "e1", context).run(["sh", "-c", script], 1)
    assert time.monotonic() - started < 10
    assert "timed out after 1 s" in str(failed.value)
    assert "started" in text_of(failed.value.report_html)
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _process_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _process_alive(child)


def test_bad_timeout_is_refused(context):
    with pytest.raises(JobFailed, match="not a number"):
        ShellCommand("j1", "e1", context).run(["true"], "soon")
    with pytest.raises(JobFailed, match="more than 0"):
        RawShellCommand("j1", "e1", context).run("true", -1)


def test_stopping_the_job_kills_the_command(context):
    job = ShellCommand("j1", "e1", context)
    threading.Timer(0.5, context.stop_event.set).start()
    started = time.monotonic()
    with pytest.raises(JobFailed, match="stopped"):
        job.run("sleep", "60")
    assert time.monotonic() - started < 10


def test_output_beyond_the_limit_is_cut_with_a_note(context):
    size = _process.OUTPUT_LIMIT + 50_000
    job = ShellCommand("j1", "e1", context)
    html = job.run("head", "-c", str(size), "/dev/zero").html()
    text = text_of(html)
    assert f"Output cut: the first {_process.OUTPUT_LIMIT:,} bytes of {size:,}" in text
    assert len(html) < _process.OUTPUT_LIMIT * 2


def test_raw_shell_command_uses_the_shell(context):
    html = RawShellCommand("j1", "e1", context).run("echo a | tr a b; echo $((2+3))", 30).html()
    assert "b 5" in text_of(html).split("Standard output")[1]


def test_raw_shell_command_is_disabled_by_default():
    assert RawShellCommand.is_enabled() is False
    registry = JobRegistry.discover()
    assert registry.get("bots_scheduler.jobs.builtin.shell.RawShellCommand") is not None
    assert "bots_scheduler.jobs.builtin.shell.RawShellCommand" in registry.disabled_names()
    assert registry.is_enabled("bots_scheduler.jobs.builtin.shell.ShellCommand")


def test_raw_shell_command_can_be_enabled_by_a_subclass_in_a_jobs_folder(tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "enabled_shell.py").write_text(
        "from bots_scheduler.jobs.builtin.shell import RawShellCommand\n\n"
        "class TrustedRawShellCommand(RawShellCommand):\n"
        "    info = dict(RawShellCommand.info, enabled=True)\n")
    registry = JobRegistry.discover([jobs])
    assert registry.is_enabled("enabled_shell.TrustedRawShellCommand")
    assert registry.get("bots_scheduler.jobs.builtin.shell.RawShellCommand") is None
