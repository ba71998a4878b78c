"""Running a command for the shell jobs: its own process group, a deadline, bounded output.

The command gets a new session (so a process group of its own).  On timeout, or when the job is
asked to stop, the whole group gets SIGTERM, then SIGKILL after a grace period.  When the command
ends by itself, what it left running in its group is killed too, so that no stray process keeps
the output pipes (or the machine) busy.  Output beyond ``limit`` bytes per stream is read and
counted but not kept.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

OUTPUT_LIMIT = 256 * 1024
TERM_GRACE = 3.0
POLL = 0.05


@dataclass
class ProcessResult:
    returncode: int | None
    stdout: bytes
    stdout_total: int
    stderr: bytes
    stderr_total: int
    timed_out: bool
    stopped: bool
    duration: float


class _Capture(threading.Thread):
    """Reads a pipe to its end, keeping the first ``limit`` bytes."""

    def __init__(self, stream, limit):
        super().__init__(daemon=True)
        self.stream, self.limit = stream, limit
        self.kept = bytearray()
        self.total = 0

    def run(self):
        try:
            while chunk := self.stream.read1(65536):
                self.total += len(chunk)
                room = self.limit - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
        except (OSError, ValueError):
            pass


def run_process(args, *, shell=False, timeout: float, stop_event=None, cwd=None,
                limit: int = OUTPUT_LIMIT) -> ProcessResult:
    """Run ``args`` (a token list, or a string when ``shell``); raises OSError if it cannot
    start."""
    started = time.monotonic()
    proc = subprocess.Popen(args, shell=shell, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    out, err = _Capture(proc.stdout, limit), _Capture(proc.stderr, limit)
    out.start()
    err.start()
    timed_out = stopped = False
    deadline = started + timeout
    while not _has_exited(proc.pid):
        if stop_event is not None and stop_event.is_set():
            stopped = True
            break
        if time.monotonic() >= deadline:
            timed_out = True
            break
        time.sleep(POLL)
    if timed_out or stopped:
        _signal_group(proc.pid, signal.SIGTERM)
        grace_end = time.monotonic() + TERM_GRACE
        while not _has_exited(proc.pid) and time.monotonic() < grace_end:
            time.sleep(POLL)
    # the group id cannot be reused yet: the leader is at worst an unreaped zombie
    _signal_group(proc.pid, signal.SIGKILL)
    returncode = proc.wait()
    for capture in (out, err):
        capture.join(TERM_GRACE)
        if not capture.is_alive():   # else a process that left the group holds the pipe
            capture.stream.close()
    return ProcessResult(returncode, bytes(out.kept), out.total, bytes(err.kept), err.total,
                         timed_out, stopped, time.monotonic() - started)


def _has_exited(pid: int) -> bool:
    """True once ``pid`` has ended, without reaping it (so its group id stays reserved)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(pgid: int, signum) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def describe_status(result: ProcessResult) -> str:
    if result.timed_out:
        return "killed: timeout"
    if result.stopped:
        return "killed: the job was stopped"
    if result.returncode is not None and result.returncode < 0:
        try:
            name = signal.Signals(-result.returncode).name
        except ValueError:
            name = f"signal {-result.returncode}"
        return f"killed by {name}"
    return str(result.returncode)
