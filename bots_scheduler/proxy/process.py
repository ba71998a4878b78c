"""mitmdump in reverse mode, in its own process, started and stopped by the launcher (CONTRACT §5).

The proxy's output goes to the ``bots_scheduler.proxy.mitmdump`` logger; its last lines explain
a failed start. The proxy watches its parent and exits when the launcher is gone, so it never
outlives it even after a SIGKILL.

TLS is Mozilla's "intermediate" profile: TLS 1.3, and TLS 1.2 with ECDHE key exchange and AEAD
suites only (no static RSA, no CBC); the addon turns renegotiation off. The client side speaks
HTTP/1.1 only (see addon._error_response). mitmproxy always makes a CA in its configuration
folder; we point that folder at a private temporary one removed at stop, and never present or
document that CA: the proxy serves our own server certificate (tls.own_certificate) or
--certificate.
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bots_scheduler.proxy import htgroups, htpasswd, tls
from bots_scheduler.proxy.policy import PARENT_ENV, READY_LINE, SECRET_ENV
from bots_scheduler.errors import UsageError

log = logging.getLogger(__name__)
output_log = logging.getLogger("bots_scheduler.proxy.mitmdump")   # the proxy process's own lines

SCRIPT = Path(__file__).with_name("script.py")
DEFAULT_HTPASSWD = Path(".htpasswd")
DEFAULT_USER = "administrator"
# Above the scheduler's own limits (uploads may reach twice --max-file-size on the wire), so that
# the scheduler's 413 is what users see.
MIN_BODY_SIZE_LIMIT = 80 * 1024 * 1024
LAST_LINES = 30
# mitmproxy logs every connection at INFO; that is debug detail for us
_CONNECTION_EVENT = re.compile(r"\] (client|server) (connect|disconnect)")
MITMDUMP = "import sys; from mitmproxy.tools.main import mitmdump; sys.exit(mitmdump())"
# Mozilla's intermediate configuration (TLS 1.2 part; TLS 1.3 suites are all AEAD): ECDHE + AEAD
TLS12_CIPHERS = ":".join([
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"])
HANDSHAKE_TIMEOUT = 10    # seconds a client gets to finish its TLS handshake
IDLE_TIMEOUT = 60         # seconds an idle client connection stays open
STREAM_RESPONSES_ABOVE = "1m"  # larger answers (exports, big reports) pass through unbuffered


class ProxyProcess:
    def __init__(self, settings, secret: str):
        self.settings = settings
        self.secret = secret
        self.htpasswd_path = settings.htpasswd or DEFAULT_HTPASSWD
        self.htgroups_path = getattr(settings, "htgroups", None) or \
            htgroups.default_path(self.htpasswd_path)
        self.listen_host = "127.0.0.1" if settings.debug else "0.0.0.0"
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._lines: collections.deque[str] = collections.deque(maxlen=LAST_LINES)
        self._ready = threading.Event()
        self._confdir: str | None = None
        self.certificate_path: Path | None = None
        self.handshake_timeout = HANDSHAKE_TIMEOUT
        self.idle_timeout = IDLE_TIMEOUT

    def prepare(self) -> str | None:
        """Make sure the htpasswd file exists (and with it the group file); returns the one-time
        message with a new password.  Checks the group file (UsageError) and warns when nobody
        has the admin role."""
        message = self._prepare_users()
        self._check_roles()
        return message

    def _check_roles(self) -> None:
        groups = {}
        if self.htgroups_path.exists():
            try:
                groups = htgroups.load(self.htgroups_path)
            except htgroups.HtgroupsError as exc:
                raise UsageError(f"--htgroups: {exc}") from None
            if self.htgroups_path.stat().st_mode & 0o077:
                log.warning("%s can be read by other users (chmod 600 %s)", self.htgroups_path,
                            self.htgroups_path)
        users = htpasswd.load(self.htpasswd_path).users()
        roles = htgroups.roles_of(groups)
        if not any(roles.get(user) == "admin" for user in users):
            log.warning("no user of %s has the admin role in %s: nobody can create or change "
                        "jobs (`bots-scheduler passwd USER --role admin`)", self.htpasswd_path,
                        self.htgroups_path)

    def _prepare_users(self) -> str | None:
        if self.settings.htpasswd is not None or self.htpasswd_path.exists():
            htpasswd.validate_htpasswd(self.htpasswd_path)
            if self.htpasswd_path.stat().st_mode & 0o077:
                log.warning("%s can be read by other users (chmod 600 %s)", self.htpasswd_path,
                            self.htpasswd_path)
            for user in htpasswd.weak_users(htpasswd.load(self.htpasswd_path)):
                log.warning(htpasswd.WEAK_WARNING, user)
            return None
        password = secrets.token_urlsafe(18)
        try:
            htpasswd.create_with_user(self.htpasswd_path, DEFAULT_USER, password)
        except FileExistsError:  # created meanwhile by another start: reuse it
            return None
        except OSError as exc:
            raise UsageError(f"cannot create {self.htpasswd_path}: {exc.strerror}") from None
        try:
            made = htgroups.create_with_admin(self.htgroups_path, DEFAULT_USER)
        except OSError as exc:
            raise UsageError(f"cannot create {self.htgroups_path}: {exc.strerror}") from None
        if made:
            log.info("created %s (mode 0600): %s has the admin role", self.htgroups_path,
                     DEFAULT_USER)
        return (f"Created {self.htpasswd_path.resolve()} (mode 0600) with user "
                f"{DEFAULT_USER!r} and password {password!r}. It is shown only this once; "
                f"change it with `bots-scheduler passwd {DEFAULT_USER}`.")

    def prepare_certificate(self) -> str:
        """The certificate to serve (ours is made if needed); returns the line that tells the
        user its fingerprint."""
        if self.settings.certificate is not None:
            self.certificate_path = Path(self.settings.certificate).resolve()
            what = f"{self.certificate_path} (--certificate)"
        else:
            folder = self.htpasswd_path.resolve().parent
            try:
                path, made = tls.own_certificate(folder)
            except OSError as exc:
                raise UsageError(f"cannot write the proxy certificate in {folder}: "
                                 f"{exc.strerror or exc}") from None
            self.certificate_path = path.resolve()
            what = (f"{path} ({'made now: ' if made else ''}self-signed for "
                    f"{socket.gethostname()}, localhost, 127.0.0.1)")
        return (f"Proxy certificate: {what}; SHA-256 fingerprint "
                f"{tls.fingerprint(self.certificate_path)}")

    def command(self) -> list[str]:
        s = self.settings
        if self.certificate_path is None:
            self.prepare_certificate()
        options = {
            "bots_htpasswd": str(self.htpasswd_path.resolve()),
            "bots_htgroups": str(Path(self.htgroups_path).resolve()),
            "bots_handshake_timeout": str(self.handshake_timeout),
            "tls_version_client_min": "TLS1_2",
            "ciphers_client": TLS12_CIPHERS,
            "http2": "false",
            "tcp_timeout": str(self.idle_timeout),
            "stream_large_bodies": STREAM_RESPONSES_ABOVE,
            "block_global": "false",          # the proxy faces the network by design
            "keep_host_header": "true",       # the scheduler and the CSRF check see the real Host
            "connection_strategy": "lazy",    # refused requests never open a scheduler connection
            "body_size_limit": str(body_size_limit(s)),
            "flow_detail": "1" if s.debug else "0",
            "termlog_verbosity": "debug" if s.debug else "info",
        }
        command = [sys.executable, "-c", MITMDUMP,
                   "--mode", f"reverse:http://127.0.0.1:{s.scheduler_port}/",
                   "--listen-host", self.listen_host, "--listen-port", str(s.port),
                   "-s", str(SCRIPT)]
        if self._confdir is not None:
            options["confdir"] = self._confdir
        for name, value in options.items():
            command += ["--set", f"{name}={value}"]
        command += ["--certs", f"*={self.certificate_path}"]
        return command

    def start(self, timeout: float = 30) -> None:
        if self.is_alive():
            return
        self._check_port_free()
        if self.certificate_path is None:
            log.info("%s", self.prepare_certificate())
        # mitmproxy makes a CA in its configuration folder whatever we do; keep it out of
        # ~/.mitmproxy, private, and gone at stop (it signs nothing we serve)
        self._confdir = tempfile.mkdtemp(prefix="bots-scheduler-proxy-")
        env = dict(os.environ, **{SECRET_ENV: self.secret, PARENT_ENV: str(os.getpid())})
        self._lines.clear()
        self._ready.clear()
        self._process = subprocess.Popen(
            self.command(), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,  # Ctrl-C reaches the launcher only
            text=True, errors="replace")
        self._reader = threading.Thread(target=self._read_output, args=(self._process.stdout,),
                                        name="proxy-log", daemon=True)
        self._reader.start()
        self._wait_until_ready(timeout)
        log.info("authentication proxy (pid %d) listening on %s:%d", self._process.pid,
                 self.listen_host, self.settings.port)

    def is_alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 10) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("the proxy did not stop within %ss; killing it", timeout)
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout=2)
        self._process = None
        self._remove_confdir()

    def _remove_confdir(self) -> None:
        if self._confdir is not None:
            shutil.rmtree(self._confdir, ignore_errors=True)
            self._confdir = None

    def last_lines(self) -> list[str]:
        return list(self._lines)

    def _check_port_free(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.listen_host, self.settings.port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise UsageError(f"port {self.settings.port} is already in use") from None
                raise UsageError(f"cannot listen on {self.listen_host}:{self.settings.port}: "
                                 f"{exc.strerror}") from None

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._reader.join(timeout=2)
                self._fail(f"the authentication proxy exited with status "
                           f"{self._process.returncode}")
            if self._ready.is_set() and self._accepts_connections():
                return
            time.sleep(0.05)
        self.stop()
        self._fail(f"the authentication proxy did not start within {timeout:g}s")

    def _fail(self, summary: str):
        lines = self.last_lines()
        self._process = None
        self._remove_confdir()
        if any("Address already in use" in line for line in lines):
            raise UsageError(f"port {self.settings.port} is already in use")
        raise RuntimeError(summary + ":\n" + "\n".join(lines[-10:]))

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.settings.port), timeout=1):
                return True
        except OSError:
            return False

    def _read_output(self, stream) -> None:
        for line in stream:
            line = line.rstrip()
            self._lines.append(line)
            if READY_LINE in line:
                self._ready.set()
            level = logging.DEBUG if _CONNECTION_EVENT.search(line) else logging.INFO
            output_log.log(level, "%s", line)
        stream.close()


def body_size_limit(settings) -> int:
    return max(MIN_BODY_SIZE_LIMIT, 2 * getattr(settings, "max_file_size", 0) + 1024 * 1024)
