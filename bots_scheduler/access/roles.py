"""The three roles, each including the one before (CONTRACT §6).

Every route declares, per HTTP method, the least role it needs (``roles`` of its handler, see
web/handlers/base.py); the OpenAPI document shows the same declaration.
"""
from __future__ import annotations

from bots_scheduler.errors import InvalidInput

VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"
ROLES = (VIEWER, OPERATOR, ADMIN)
_RANK = {role: rank for rank, role in enumerate(ROLES)}


class UnknownRole(InvalidInput):
    """A role name that is not one of ROLES."""


def check_role(role, where: str = "role") -> str:
    if role not in _RANK:
        raise UnknownRole(f"{where}: unknown role {role!r} (one of {', '.join(ROLES)})")
    return role


def allows(role: str, needed: str) -> bool:
    """True when ``role`` includes ``needed`` (an unknown role allows nothing)."""
    return _RANK.get(role, -1) >= _RANK[needed]


def highest(roles) -> str:
    """The highest of ``roles``; a user in no group is a viewer."""
    known = [role for role in roles if role in _RANK]
    return max(known, key=_RANK.__getitem__) if known else VIEWER
