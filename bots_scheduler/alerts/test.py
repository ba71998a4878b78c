"""``bots-scheduler alert-test PROFILE``: send one test alert through every URL of a profile.

It uses the same profile checks and the same delivery as the server (one attempt per URL, no
retries), so a profile that passes here works in ``run``.  Exit status: 0 every URL took it,
1 some did not, 2 bad configuration.  URLs are named ``url N (Service)``, never shown.
"""
from __future__ import annotations

import socket
import sys
import threading

from bots_scheduler.alerts.messages import PREFIX, AlertMessage
from bots_scheduler.alerts.profiles import load_alert_config
from bots_scheduler.alerts.sender import deliver_with_retries, summary
from bots_scheduler.alerts.urls import THREAD_PREFIX


def command_alert_test(args, open_secrets) -> int:
    """``open_secrets(args)``: a context manager giving the secrets lookup (name -> value) of
    the datastore the command's options name; opened only for a profile with secret URLs."""
    config = load_alert_config(args.alert_config, [args.profile], selector="PROFILE")
    profile = config.profiles[args.profile]     # there: load_alert_config checked it
    if any(url.secret for url in profile.urls):
        with open_secrets(args) as secrets:
            return _send(profile, secrets)
    return _send(profile, None)


def _send(profile, secrets) -> int:
    message = AlertMessage(f"{PREFIX}: alert test of profile {profile.name}",
                           f"This is a test alert of Bots Scheduler's alert profile "
                           f"{profile.name!r}, sent from {socket.gethostname()}.\n"
                           f"If you can read it, alerts of jobs will reach you too.")
    outcomes = []
    # in an alert thread: what the HTTP libraries log there (URLs) is dropped
    worker = threading.Thread(name=f"{THREAD_PREFIX}test", target=lambda: outcomes.extend(
        deliver_with_retries(profile, message, retry_delays=(), secrets=secrets)))
    worker.start()
    worker.join()
    status, text = summary(outcomes)
    for outcome in outcomes:
        print(f"alert-test: profile {profile.name}: {outcome.label}: "
              f"{'sent' if outcome.delivered else 'not sent: ' + outcome.reason}")
    if status != "sent":
        print(f"bots-scheduler alert-test: profile {profile.name}: {text}", file=sys.stderr)
        return 1
    return 0
