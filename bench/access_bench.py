"""What the role check and secret resolution add to a request and to a run (issue 14).

Measures, in this process, on a fresh SQLite datastore:

- ``authorize`` (web/handlers/base.py) of one request: ``--local`` (the local admin), through the
  proxy with a user and role (headers only), through the proxy with a bearer token (one lookup
  of the token's hash in the tokens table);
- the resolution of a run's arguments (secrets/arguments.py ``resolve``): without any reference
  (every run of a job without secrets pays only this), and with one ``{"secret": NAME}``
  (one row read, one AES-GCM decryption).

Then divides each by the per-request time of the REST benchmark's create and run-now figures
(bench/README.md, pass them with --create-rate and --run-now-seconds) to give the share.

    .venv/bin/python bench/access_bench.py [--create-rate 863] [--run-now-seconds 0.66]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy


def timed(fn, repeat: int) -> float:
    """Median seconds of ``fn()`` over ``repeat`` calls, in 5 rounds."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        rounds.append((time.perf_counter() - start) / repeat)
    return statistics.median(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--create-rate", type=float, default=863.2,
                        help="jobs/s of the REST benchmark's create step (8 clients)")
    parser.add_argument("--run-now-seconds", type=float, default=0.66,
                        help="seconds of the REST benchmark's 300-run burst")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    from bots_scheduler.access.tokens import TokenStore
    from bots_scheduler.secrets.arguments import resolve
    from bots_scheduler.secrets.keys import KeySource
    from bots_scheduler.secrets.store import SecretStore
    from bots_scheduler.web.handlers import base

    folder = Path(tempfile.mkdtemp(prefix="access-bench-"))
    engine = sqlalchemy.create_engine(f"sqlite:///{folder / 'datastore.db'}")
    tokens = TokenStore(engine, "scheduler_jobs")
    tokens.create_table()
    token, _ = tokens.create("bench", "operator")
    secrets = SecretStore(engine, "scheduler_jobs", KeySource(folder / "secret.key"))
    secrets.create_table()
    secrets.create("api-key", "k" * 40)
    pool = ThreadPoolExecutor(2)

    class Handler:
        roles = {"post": "admin"}

        def __init__(self, headers, proxied):
            self.request = SimpleNamespace(method="POST", path="/api/v1/jobs",
                                           headers=headers)
            self.settings = {"worker_pool": pool, "bots_app": SimpleNamespace(
                proxy_secret="s" if proxied else None, local_user="me", tokens=tokens)}

        def set_header(self, *_):
            pass

    loop = asyncio.new_event_loop()

    def check(handler):
        return lambda: loop.run_until_complete(base.authorize(handler))

    import tornado.httputil
    headers = tornado.httputil.HTTPHeaders
    cases = {
        "role check, --local": check(Handler(headers(), False)),
        "role check, proxy user+role": check(Handler(headers({
            base.SECRET_HEADER: "s", base.USER_HEADER: "ada", base.ROLE_HEADER: "admin"}), True)),
    }
    class OperatorCall(Handler):
        roles = {"post": "operator"}       # the token's role

    cases["role check, proxy bearer token"] = check(OperatorCall(headers({
        base.SECRET_HEADER: "s", base.TOKEN_HEADER: token}), True))
    plain = ["world", 0]
    cases["arguments, no reference"] = lambda: resolve(plain, secrets)
    referenced = [{"secret": "api-key"}, "ips.txt"]
    cases["arguments, one secret"] = lambda: resolve(referenced, secrets)

    create_ms = 1000 * args.clients / args.create_rate        # one request's share of time
    run_ms = 1000 * args.run_now_seconds / 300 * args.clients
    print(f"REST benchmark: create {args.create_rate:g} jobs/s with {args.clients} clients "
          f"= {create_ms:.2f} ms per request; run-now 300 runs in {args.run_now_seconds:g} s "
          f"= {run_ms:.2f} ms per run and client")
    print(f"{'step':36} {'median':>10}  {'share of a create':>17}  {'of a run-now':>12}")
    for name, fn in cases.items():
        seconds = timed(fn, 200 if "token" in name or "one secret" in name else 5000)
        ms = 1000 * seconds
        print(f"{name:36} {ms * 1000:8.1f} µs  {100 * ms / create_ms:16.2f}%  "
              f"{100 * ms / run_ms:11.2f}%")
    loop.close()
    pool.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
