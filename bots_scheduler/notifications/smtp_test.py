"""``bots-scheduler smtp-test PROFILE``: send one test message through a profile, right now.

It uses the same profile checks and the same sender as the server, so a profile that passes here
works in ``run``.  Exit status: 0 sent, 1 the server did not take it, 2 bad configuration.
"""
from __future__ import annotations

import socket
import sys

from bots_scheduler.jobs.report import Report, Section, Text
from bots_scheduler.notifications.notifier import SUBJECT_PREFIX
from bots_scheduler.notifications.profiles import SmtpProfile, load_profiles
from bots_scheduler.notifications.sender import DeliveryError, build_message, deliver


def test_report(profile: SmtpProfile) -> Report:
    return Report("SMTP test", [Section(
        "SMTP test", Text(f"This is a test message of Bots Scheduler's SMTP profile "
                          f"{profile.name!r}, sent from {socket.gethostname()} through "
                          f"{profile.hostname}:{profile.port} ({profile.security})."),
        Text("If you can read it, reports of jobs will reach you too."))])


def command_smtp_test(args) -> int:
    (profile,) = load_profiles(args.smtp_config, [args.profile], selector="PROFILE")
    message = build_message(profile, f"{SUBJECT_PREFIX} SMTP test: profile {profile.name}",
                            test_report(profile))
    try:
        text = deliver(profile, message)
    except DeliveryError as exc:
        print(f"bots-scheduler smtp-test: profile {profile.name}: not sent: {exc}",
              file=sys.stderr)
        return 1
    print(f"smtp-test: profile {profile.name}: test message {text} "
          f"({profile.hostname}:{profile.port}, {profile.security})")
    return 0
