"""``bots-scheduler passwd USER``: add a proxy user or change a password, without Apache tools.

The entry is bcrypt; a running proxy picks the change up at its next request.
"""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

from bots_scheduler.proxy import htgroups, htpasswd
from bots_scheduler.errors import UsageError


def command_passwd(args) -> int:
    htpasswd.check_user_name(args.user)
    password = read_password(args.password_stdin)
    groups_path = Path(args.htgroups) if getattr(args, "htgroups", None) \
        else htgroups.default_path(args.htpasswd)
    if args.role and groups_path.exists():
        htgroups.load(groups_path)       # a broken group file: say so before changing anything
    existed = htpasswd.set_password(Path(args.htpasswd), args.user, password)
    done = "changed the password of" if existed else "added"
    print(f"passwd: {done} user {args.user!r} in {args.htpasswd}")
    if args.role:
        before = htgroups.set_role(groups_path, args.user, args.role)
        change = f"from {before} to {args.role}" if before and before != args.role \
            else args.role
        print(f"passwd: user {args.user!r} has the role {change} in {groups_path}")
    return 0


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password; pipe it with --password-stdin")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise UsageError("the two passwords differ; nothing changed")
    return first
