"""The roles of the proxy's users: an Apache group file (``AuthGroupFile`` format), CONTRACT §6.

One line per role, ``role: user1 user2``; blank lines and ``#`` comments are allowed. The group
names are the roles (viewer, operator, admin); any other name is an error, so that a typo never
silently leaves a user with less (or more) than intended. A user in no group is a viewer; a user
in several has the highest role.

The proxy re-reads the file when it changes (``Groups.refresh``, a stat per request); a file
edited into something unreadable is logged and the previous one stays in force.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from bots_scheduler.access.roles import ADMIN, ROLES, highest
from bots_scheduler.errors import InvalidInput, UsageError
from bots_scheduler.private_files import write_private

log = logging.getLogger(__name__)

DEFAULT_NAME = ".htgroups"
MAX_SIZE = 1024 * 1024


class HtgroupsError(InvalidInput):
    """A group file that cannot be used (one line: exit 2 at start, logged while running)."""


def default_path(htpasswd_path) -> Path:
    """``.htgroups`` beside the htpasswd file."""
    return Path(htpasswd_path).resolve().parent / DEFAULT_NAME


def validate_htgroups(value, htpasswd_path=None, local: bool = False) -> Path | None:
    """--htgroups: a given file must exist; the given or default one must read as roles
    (UsageError: one line, exit 2, before anything starts). None: the default, beside the
    htpasswd file (which may not exist yet)."""
    if local:
        return Path(value) if value else None     # no proxy, no roles to read
    path = Path(value) if value else default_path(htpasswd_path or ".htpasswd")
    if value and not path.is_file():
        raise UsageError(f"--htgroups: {value} does not exist or is not a file")
    if path.exists():
        try:
            load(path)
        except HtgroupsError as exc:
            raise UsageError(f"--htgroups: {exc}") from None
    return Path(value) if value else None


def parse(text: str, where: str = ".htgroups") -> dict[str, list[str]]:
    """{role: [users]} in file order; HtgroupsError naming the line otherwise."""
    groups: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, colon, members = stripped.partition(":")
        name = name.strip()
        if not colon or not name:
            raise HtgroupsError(f"{where} line {number}: expected 'role: user1 user2'")
        if name not in ROLES:
            raise HtgroupsError(f"{where} line {number}: unknown role {name!r} (the groups are "
                                f"the roles: {', '.join(ROLES)})")
        groups.setdefault(name, []).extend(members.split())
    return groups


def load(path) -> dict[str, list[str]]:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SIZE:
            raise HtgroupsError(f"{path} is larger than {MAX_SIZE} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HtgroupsError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    return parse(text, str(path))


def roles_of(groups: dict[str, list[str]]) -> dict[str, str]:
    """{user: role}: the highest role of each user named in a group."""
    found: dict[str, list[str]] = {}
    for role, users in groups.items():
        for user in users:
            found.setdefault(user, []).append(role)
    return {user: highest(roles) for user, roles in found.items()}


def render(groups: dict[str, list[str]]) -> str:
    lines = ["# roles of the Bots Scheduler proxy's users: role: user1 user2 (docs/security.md)"]
    lines += [f"{role}: {' '.join(groups[role])}" for role in ROLES if groups.get(role)]
    return "\n".join(lines) + "\n"


def set_role(path, user: str, role: str) -> str | None:
    """Put ``user`` in the group ``role`` alone (out of the others); returns the role it had.
    The file is replaced atomically; a new file gets mode 0600."""
    path = Path(path)
    groups = load(path) if path.exists() else {}
    previous = roles_of(groups).get(user)
    groups = {name: [u for u in users if u != user] for name, users in groups.items()}
    groups.setdefault(role, []).append(user)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o600
    write_private(path, render(groups).encode("utf-8"), mode)
    return previous


def create_with_admin(path, user: str) -> bool:
    """A new file naming ``user`` admin, mode 0600; False when the file exists (kept)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(render({ADMIN: [user]}))
    return True


class Groups:
    """The roles of the users, as the proxy sees them at each request."""

    def __init__(self, path):
        self.path = Path(path)
        self._signature = object()
        self._roles: dict[str, str] = {}

    def role(self, user: str) -> str:
        self.refresh()
        return self._roles.get(user, ROLES[0])

    def refresh(self) -> None:
        signature = _stat_signature(self.path)
        if signature == self._signature:
            return
        self._signature = signature
        if signature is None:
            if self._roles:
                log.error("htgroups: %s is gone; the previous roles stay in force until it is "
                          "back", self.path)
            return
        try:
            roles = roles_of(load(self.path))
        except HtgroupsError as exc:
            log.error("htgroups: %s; the previous roles stay in force until it is fixed", exc)
            return
        self._roles = roles
        log.info("htgroups: loaded the roles of %d user(s) from %s", len(roles), self.path)


def _stat_signature(path: Path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
