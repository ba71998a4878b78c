"""Throughput of the authentication proxy, side by side in one run (issue 3).

Measures requests/s with wrk (keep-alive connections; ``apt-get install wrk``) against a small
Tornado app:
  direct            plain HTTP straight to Tornado
  mitmproxy TLS     mitmdump in reverse mode, TLS, no addon, no authentication
  ours, auth        our ProxyProcess (addon: Basic auth against a bcrypt cost-10 htpasswd entry
                    made by ``htpasswd -B -C 10``, CSRF and header rules, identity headers)
  built-in auth     mitmdump's own proxyauth with the same htpasswd file (for comparison: it
                    verifies bcrypt on every request, on its event loop)
and prints the ratios. Target: ours with auth >= 80% of mitmproxy TLS without auth.

    .venv/bin/python bench/bench_proxy.py [--seconds 5] [--rounds 3] [--connections 16]
"""
from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy  # noqa: E402

from bots_scheduler.proxy.process import MITMDUMP, ProxyProcess  # noqa: E402
from bots_scheduler.settings import DatabaseSettings, Settings  # noqa: E402

USER, PASSWORD = "bench", "bench password"
UPSTREAM = """
import sys, tornado.ioloop, tornado.web
class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write({"jobs": [], "user": self.request.headers.get("X-Bots-User", "")})
tornado.web.Application([(r"/.*", Hello)]).listen(int(sys.argv[1]), "127.0.0.1")
tornado.ioloop.IOLoop.current().start()
"""


def free_port_pair() -> int:
    for _ in range(200):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair")


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port}")


def wrk(url: str, seconds: int, connections: int, auth: str | None = None,
        strict: bool = True) -> tuple[float, int]:
    """(requests/s, requests); ``strict``: any error or non-2xx answer spoils the measurement."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s"]
    if auth:
        token = base64.b64encode(auth.encode()).decode()
        command += ["-H", f"Authorization: Basic {token}"]
    result = subprocess.run(command + [url], capture_output=True, text=True, check=True)
    errors = "Non-2xx or 3xx responses" in result.stdout or "Socket errors" in result.stdout
    if errors and strict:
        raise RuntimeError(f"errors while measuring {url}:\n{result.stdout}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))
    return rate, int(re.search(r"(\d+) requests in", result.stdout).group(1))


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Variant:
    """One way of reaching the upstream; collects requests/s and CPU time per request."""

    def __init__(self, name: str, url: str, pid: int | None, auth: str | None = None):
        self.name, self.url, self.pid, self.auth = name, url, pid, auth
        self.rates: list[float] = []
        self.cpu_per_request: list[float] = []

    def measure(self, seconds: int, connections: int, strict: bool = True) -> None:
        before = cpu_seconds(self.pid) if self.pid else 0.0
        rate, requests = wrk(self.url, seconds, connections, self.auth, strict)
        self.rates.append(rate)
        if self.pid and requests:
            self.cpu_per_request.append((cpu_seconds(self.pid) - before) / requests)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu_ms(self) -> float | None:
        return statistics.median(self.cpu_per_request) * 1000 if self.cpu_per_request else None


def start(command: list[str], env=None) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def make_htpasswd(folder: Path) -> Path:
    path = folder / "bench.htpasswd"
    if shutil.which("htpasswd"):
        subprocess.run(["htpasswd", "-b", "-c", "-B", "-C", "10", str(path), USER, PASSWORD],
                       check=True, capture_output=True)
    else:
        from bots_scheduler.proxy import htpasswd
        htpasswd.create_with_user(path, USER, PASSWORD)
    return path


def mitmdump_plain(port: int, upstream: int, extra=()) -> subprocess.Popen:
    return start([sys.executable, "-c", MITMDUMP, "--mode", f"reverse:http://127.0.0.1:{upstream}/",
                  "--listen-host", "127.0.0.1", "--listen-port", str(port),
                  "--set", "flow_detail=0", "--set", "termlog_verbosity=warn", *extra])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="duration of each measurement")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements of each variant, interleaved (medians are reported)")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_proxy: needs wrk (apt-get install wrk)")

    folder = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    htpasswd = make_htpasswd(folder)
    port = free_port_pair()
    plain_port, builtin_port = free_port_pair(), free_port_pair()
    credentials = f"{USER}:{PASSWORD}"
    upstream = start([sys.executable, "-c", UPSTREAM, str(port + 1)])
    plain = mitmdump_plain(plain_port, port + 1)
    builtin = mitmdump_plain(builtin_port, port + 1, ["--set", f"proxyauth=@{htpasswd}"])
    url = sqlalchemy.URL.create("sqlite", database=str(folder / "unused.db"))
    settings = Settings(database=DatabaseSettings("sqlite", "sqlite", url), data_dir=folder,
                        port=port, htpasswd=htpasswd)
    ours = ProxyProcess(settings, secret="bench-secret")
    try:
        for waited in (port + 1, plain_port, builtin_port):
            wait_for_port(waited)
        ours.start()
        variants = [
            Variant("direct (Tornado, plain HTTP)", f"http://127.0.0.1:{port + 1}/", None),
            Variant("mitmproxy TLS, no auth", f"https://127.0.0.1:{plain_port}/", plain.pid),
            Variant("ours TLS, auth (bcrypt cost 10)", f"https://127.0.0.1:{port}/",
                    ours._process.pid, credentials),
        ]
        for _ in range(args.rounds):
            for variant in variants:
                variant.measure(args.seconds, args.connections)
        reference = Variant("mitmproxy built-in auth (cost 10)",
                            f"https://127.0.0.1:{builtin_port}/", builtin.pid, credentials)
        reference.measure(args.seconds, args.connections, strict=False)
    finally:
        ours.stop()
        for process in (builtin, plain, upstream):
            stop(process)
        shutil.rmtree(folder, ignore_errors=True)
    report(args, variants, reference)


def report(args, variants, reference) -> None:
    print(f"wrk, {args.connections} keep-alive connections, {args.rounds} interleaved rounds of "
          f"{args.seconds}s (medians); {os.cpu_count()} CPU(s) shared by client, proxy and "
          f"server")
    print(f"  {'':36s} {'req/s':>8s}  {'proxy CPU ms/request':>20s}")
    for variant in variants + [reference]:
        cpu = f"{variant.cpu_ms:20.2f}" if variant.cpu_ms is not None else f"{'-':>20s}"
        print(f"  {variant.name:36s} {variant.rate:8.0f}  {cpu}")
    direct, plain, ours = variants
    print(f"  ours with auth / mitmproxy without auth: {ours.rate / plain.rate:.0%} of the "
          f"requests/s (target >= 80%), {plain.cpu_ms / ours.cpu_ms:.0%} by CPU per request")
    print(f"  ours with auth / direct:                 {ours.rate / direct.rate:.0%}")
    print(f"  mitmproxy without auth / direct:         {plain.rate / direct.rate:.0%}")


if __name__ == "__main__":
    main()
