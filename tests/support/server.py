"""A real ``bots-scheduler run`` process for end-to-end tests."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

START_TIMEOUT = 40


def free_port_pair() -> int:
    """A port P such that P and P+1 are both free on 127.0.0.1 right now."""
    for _ in range(200):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port >= 65534:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no pair of free ports found")


class ServerProcess:
    def __init__(self, cwd: Path, args: list[str], env: dict | None = None, local: bool = True):
        self.cwd = Path(cwd)
        self.extra_args = list(args)
        self.local = local
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.port = free_port_pair() if "-p" not in args and "--port" not in args else \
            int(args[(args.index("-p") if "-p" in args else args.index("--port")) + 1])
        self.proc: subprocess.Popen | None = None
        self.session = requests.Session()
        self.starts = 0

    # -- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The scheduler itself (127.0.0.1:PORT+1)."""
        return f"http://127.0.0.1:{self.port + 1}"

    @property
    def proxy_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "bots_scheduler", "run"]
        if self.local:
            args.append("--local")
        if "-p" not in self.extra_args and "--port" not in self.extra_args:
            args += ["-p", str(self.port)]
        return args + self.extra_args

    # -- life cycle ------------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT) -> "ServerProcess":
        self.starts += 1
        self.stdout_path = self.cwd / f"server-{self.port}-{self.starts}.out"
        self.stderr_path = self.cwd / f"server-{self.port}-{self.starts}.err"
        self.proc = subprocess.Popen(self.command(), cwd=self.cwd, env=self.env,
                                     stdout=open(self.stdout_path, "wb"),
                                     stderr=open(self.stderr_path, "wb"),
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} during start-up:\n"
                                   f"{self.stderr()[-3000:]}")
            if "is running at" in self.stdout():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start within {timeout}s:\n{self.stderr()[-3000:]}")

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def signal(self, signum) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signum)

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then SIGKILL of the whole process group if it does not stop in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap_group()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._reap_group()

    def _reap_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    # -- HTTP ------------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url + path, **kwargs)

    def get(self, path, **kw):
        return self.api("GET", path, **kw)

    def post(self, path, **kw):
        return self.api("POST", path, **kw)

    def wait_for(self, predicate, timeout: float = 30, interval: float = 0.2, what: str = ""):
        """Poll ``predicate()`` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}; "
                             f"last value {last!r}; server stderr:\n{self.stderr()[-2000:]}")

    def wait_execution(self, execution_id: str, states=("succeeded", "failed", "timeout",
                                                        "stopped", "scheduled error"),
                       timeout: float = 30) -> dict:
        def done():
            r = self.get(f"/api/v1/executions/{execution_id}")
            return r.json() if r.status_code == 200 and r.json()["state"] in states else None
        return self.wait_for(done, timeout, what=f"execution {execution_id} to end")

    def add_job(self, job_class_string: str, name: str = "job", pub_args=None, **fields) -> str:
        body = {"job_class_string": job_class_string, "name": name,
                "pub_args": pub_args or [], **fields}
        r = self.post("/api/v1/jobs", json=body)
        assert r.status_code == 201, r.text
        return r.json()["job_id"]
