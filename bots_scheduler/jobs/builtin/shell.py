"""Shell jobs: a program run from a token list (no shell), and a raw shell command line.

``RawShellCommand`` is disabled by default: whoever can schedule it can run anything as the
scheduler's user.  docs/jobs/shell.md says how to enable it.
"""
from __future__ import annotations

import os
import shlex

from bots_scheduler.jobs.base import JobBase, JobFailed, JobTimedOut
from bots_scheduler.jobs.builtin._process import OUTPUT_LIMIT, describe_status, run_process
from bots_scheduler.jobs.report import Code, Report, Section, Table, Text, report, report_title

DEFAULT_TIMEOUT = 3600.0
MAX_TIMEOUT = 7 * 24 * 3600.0
DATA_LINES = 1000          # lines of output kept in ``_data`` (change detection, notifications)


def parse_timeout(value) -> float:
    if value is None or value == "":
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise JobFailed(f"timeout {value!r} is not a number of seconds") from None
    if not 0 < seconds <= MAX_TIMEOUT:
        raise JobFailed(f"timeout {value!r} must be more than 0 and at most {MAX_TIMEOUT:g} s")
    return seconds


def command_tokens(args) -> tuple[list[str], object]:
    """``(tokens, timeout)`` from pub_args: ``["ls", "-l"]`` or ``[["ls", "-l"], 30]``."""
    timeout = None
    if args and isinstance(args[0], (list, tuple)):
        if len(args) > 2:
            raise JobFailed("with a token list first, the only other argument is the timeout")
        tokens, timeout = list(args[0]), (args[1] if len(args) > 1 else None)
    else:
        tokens = list(args)
    if not tokens:
        raise JobFailed("no command given")
    for token in tokens:
        if isinstance(token, bool) or not isinstance(token, (str, int, float)):
            raise JobFailed(f"command token {token!r} is not a string")
        if "\x00" in str(token):
            raise JobFailed("a command token contains a NUL byte")
    return [str(token) for token in tokens], timeout


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _output_section(title, kept, total):
    if total == 0:
        return Section(title, Text("(nothing)"))
    items = [Code(_text(kept))]
    if total > len(kept):
        items.append(Text(f"Output cut: the first {len(kept):,} bytes of {total:,} are shown "
                          f"(limit {OUTPUT_LIMIT:,} bytes per stream)."))
    return Section(title, *items)


def execute(job: JobBase, args, shell: bool, shown: str, timeout):
    """What both shell jobs share: run, build the report, fail on a non-zero exit."""
    # without a timeout argument the run's own timeout (job option or --job-timeout) applies
    run_limit = getattr(job.context, "timeout", None)
    seconds = parse_timeout(timeout if timeout not in (None, "") or not run_limit
                            else min(run_limit, MAX_TIMEOUT))
    cwd = job.data_dir if job.data_dir and os.path.isdir(job.data_dir) else None
    try:
        result = run_process(args, shell=shell, timeout=seconds, stop_event=job.stop_event,
                             cwd=cwd)
    except OSError as exc:
        raise JobFailed(f"cannot start {shown}: {exc.strerror or exc}") from None
    status = describe_status(result)
    items = [
        Section("Command", Table([
            ["command", shown], ["working folder", str(cwd or os.getcwd())],
            ["exit status", status], ["duration (s)", f"{result.duration:.2f}"],
            ["timeout (s)", f"{seconds:g}"]], headers=["", ""])),
        _output_section("Standard output", result.stdout, result.stdout_total),
        _output_section("Standard error", result.stderr, result.stderr_total),
    ]
    job._data = {key: _text(kept).splitlines()[:DATA_LINES]
                 for key, kept in (("stdout", result.stdout), ("stderr", result.stderr))
                 if kept.strip()}
    if result.timed_out:
        message = f"{shown}: timed out after {seconds:g} s; its process group was killed"
    elif result.stopped:
        message = f"{shown}: stopped; its process group was killed"
    elif result.returncode != 0:
        message = f"{shown}: exit status {status}"
    else:
        return items
    failure = JobTimedOut if result.timed_out else JobFailed
    raise failure(message, Report(report_title(job),
                                  [Section("Run failed", Text(message)), *items]))


class ShellCommand(JobBase):
    info = {
        "job_class_name": "Shell command",
        "notes": "Runs a program with the given arguments, without a shell (no globbing, pipes "
                 "or variable expansion). The report holds its standard output, standard error "
                 "and exit status; a non-zero exit status or the timeout fails the run. "
                 "Arguments: the command's tokens, e.g. [\"df\", \"-h\"]; to set the timeout, "
                 "give the tokens as one list followed by the seconds: [[\"df\", \"-h\"], 60] "
                 f"(default {DEFAULT_TIMEOUT:g} s).",
        # 'list' alone: the whole pub_args is one JSON list (as the original Bots Scheduler
        # declared it, so that its job dialog sends every token)
        "arguments": [
            {"type": "list", "description": "The command's tokens: the program, then its "
                                            "arguments"},
        ],
        "example_arguments": '["uname", "-a"]',
        "report_title": "Shell command",
    }

    @report
    def run(self, *args, timeout=None, **kwargs):
        tokens, given_timeout = command_tokens(args)
        shown = shlex.join(tokens)
        return execute(self, tokens, False, shown,
                                        timeout if timeout is not None else given_timeout)


class RawShellCommand(JobBase):
    info = {
        "job_class_name": "Raw shell command",
        "notes": "Runs one command line through /bin/sh (pipes, redirections, variables). "
                 "Disabled by default: it runs anything as the scheduler's user. See "
                 "docs/jobs/shell.md to enable it. Optional second argument: timeout in "
                 f"seconds (default {DEFAULT_TIMEOUT:g}).",
        "arguments": [
            {"type": "string", "description": "Command line for /bin/sh"},
            {"type": "integer", "description": "Timeout in seconds (optional)"},
        ],
        "example_arguments": '["df -h | sort -k5 -r", 60]',
        "report_title": "Raw shell command",
        "enabled": False,
    }

    @report
    def run(self, command=None, timeout=None, *args, **kwargs):
        if not isinstance(command, str) or not command.strip():
            raise JobFailed("no command line given (one string)")
        if args:
            raise JobFailed("a raw shell command takes one command string and an optional timeout")
        if "\x00" in command:
            raise JobFailed("the command line contains a NUL byte")
        return execute(self, command, True, command, timeout)
