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

    .venv/bin/python bench/bench_proxy.py [--seconds 10] [--connections 16]
"""
from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import socket
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
        strict: bool = True) -> float:
    """Requests/s; ``strict``: any error or non-2xx answer invalidates the measurement."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s"]
    if auth:
        token = base64.b64encode(auth.encode()).decode()
        command += ["-H", f"Authorization: Basic {token}"]
    result = subprocess.run(command + [url], capture_output=True, text=True, check=True)
    errors = "Non-2xx or 3xx responses" in result.stdout or "Socket errors" in result.stdout
    if errors and strict:
        raise RuntimeError(f"errors while measuring {url}:\n{result.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))


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
        from passlib.apache import HtpasswdFile
        entries = HtpasswdFile(default_scheme="bcrypt")
        entries.context.update(bcrypt__rounds=10)
        entries.set_password(USER, PASSWORD)
        path.write_bytes(entries.to_string())
    return path


def mitmdump_plain(port: int, upstream: int, extra=()) -> subprocess.Popen:
    return start([sys.executable, "-c", MITMDUMP, "--mode", f"reverse:http://127.0.0.1:{upstream}/",
                  "--listen-host", "127.0.0.1", "--listen-port", str(port),
                  "--set", "flow_detail=0", "--set", "termlog_verbosity=warn", *extra])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each measurement")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_proxy: needs wrk (apt-get install wrk)")

    folder = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    htpasswd = make_htpasswd(folder)
    port = free_port_pair()
    upstream = start([sys.executable, "-c", UPSTREAM, str(port + 1)])
    results = {}
    try:
        wait_for_port(port + 1)
        n, c = args.seconds, args.connections
        results["direct (Tornado, HTTP)"] = wrk(f"http://127.0.0.1:{port + 1}/", n, c)

        plain = mitmdump_plain(port, port + 1)
        try:
            wait_for_port(port)
            results["mitmproxy TLS, no auth"] = wrk(f"https://127.0.0.1:{port}/", n, c)
        finally:
            stop(plain)

        url = sqlalchemy.URL.create("sqlite", database=str(folder / "unused.db"))
        settings = Settings(database=DatabaseSettings("sqlite", "sqlite", url),
                            data_dir=folder, port=port, htpasswd=htpasswd)
        ours = ProxyProcess(settings, secret="bench-secret")
        ours.start()
        try:
            results["ours TLS, auth (bcrypt cost 10)"] = wrk(f"https://127.0.0.1:{port}/", n, c,
                                                            f"{USER}:{PASSWORD}")
        finally:
            ours.stop()

        builtin = mitmdump_plain(port, port + 1, ["--set", f"proxyauth=@{htpasswd}"])
        try:
            wait_for_port(port)
            results["mitmproxy built-in auth (bcrypt cost 10)"] = wrk(
                f"https://127.0.0.1:{port}/", n, c, f"{USER}:{PASSWORD}", strict=False)
        finally:
            stop(builtin)
    finally:
        stop(upstream)
        shutil.rmtree(folder, ignore_errors=True)

    print(f"wrk: {args.seconds}s per measurement, {args.connections} keep-alive connections, "
          f"{os.cpu_count()} CPU(s) shared by client, proxy and server")
    for name, rate in results.items():
        print(f"  {name:42s} {rate:9.0f} req/s")
    direct = results["direct (Tornado, HTTP)"]
    plain = results["mitmproxy TLS, no auth"]
    ours = results["ours TLS, auth (bcrypt cost 10)"]
    print(f"  ours with auth / mitmproxy without auth   {ours / plain:9.0%}  (target >= 80%)")
    print(f"  ours with auth / direct                   {ours / direct:9.0%}")
    print(f"  mitmproxy without auth / direct           {plain / direct:9.0%}")


if __name__ == "__main__":
    main()
