"""What changed between two runs of a job: the entries of ``_data`` that appeared or disappeared.

Both sides are compared as stored JSON (sets become sorted lists), so the current run compares
exactly as it will be read back next time.  Dicts are compared key by key; lists as unordered
collections, and lists of records (dicts) are paired on an identifying field such as ``ip`` so
that one new port on a known host reads as that port, not as a whole new host.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from bots_scheduler.jobs.report import Data, Section, Subsection, Text, data_to_json

# Fields that usually name a record, tried in this order to pair records of two lists.
IDENTITY_FIELDS = ("id", "ip", "ip_str", "host", "hostname", "domain", "name", "email",
                   "address", "url", "key")


@dataclass(frozen=True)
class Change:
    path: tuple[str, ...]               # where in the data: keys, or "field=value" for records
    value: object

    @property
    def where(self) -> str:
        return " › ".join(self.path) if self.path else "(top level)"


@dataclass
class Changes:
    appeared: list[Change] = field(default_factory=list)
    disappeared: list[Change] = field(default_factory=list)
    no_previous_data: bool = False

    def __bool__(self) -> bool:
        return bool(self.appeared or self.disappeared)

    def summary(self) -> str:
        return f"{len(self.appeared)} appeared, {len(self.disappeared)} disappeared"


def as_json_data(data):
    """``data`` as it reads back from the datastore (None stays None)."""
    return None if data is None else json.loads(data_to_json(data))


def compare(previous, current) -> Changes:
    """The changes from ``previous`` (None: no previous run) to ``current``."""
    no_previous_data = previous is None
    previous, current = as_json_data(previous), as_json_data(current)
    changes = Changes(no_previous_data=no_previous_data)
    _diff(_empty_like(current) if previous is None else previous,
          _empty_like(previous) if current is None else current, (), changes)
    return changes


def _empty_like(value):
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return []
    return None


def _diff(old, new, path, changes: Changes) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        _diff_dicts(old, new, path, changes)
    elif isinstance(old, list) and isinstance(new, list):
        _diff_lists(old, new, path, changes)
    else:
        if not _is_empty(old):
            changes.disappeared.append(Change(path, old))
        if not _is_empty(new):
            changes.appeared.append(Change(path, new))


def _is_empty(value) -> bool:
    return value is None or value == {} or value == []


def _diff_dicts(old: dict, new: dict, path, changes: Changes) -> None:
    for key, value in new.items():
        if key not in old:
            changes.appeared.append(Change(path + (str(key),), value))
    for key, value in old.items():
        if key not in new:
            changes.disappeared.append(Change(path + (str(key),), value))
    for key in new:
        if key in old:
            _diff(old[key], new[key], path + (str(key),), changes)


def _diff_lists(old: list, new: list, path, changes: Changes) -> None:
    identity = _identity_field(old, new)
    if identity:
        old_by_id = {_canonical(item[identity]): item for item in old}
        new_by_id = {_canonical(item[identity]): item for item in new}
        for ident, item in new_by_id.items():
            record_path = path + (f"{identity}={_label(item[identity])}",)
            if ident in old_by_id:
                _diff(old_by_id[ident], item, record_path, changes)
            else:
                changes.appeared.append(Change(record_path, item))
        for ident, item in old_by_id.items():
            if ident not in new_by_id:
                changes.disappeared.append(
                    Change(path + (f"{identity}={_label(item[identity])}",), item))
        return
    for item in _multiset_minus(new, old):
        changes.appeared.append(Change(path, item))
    for item in _multiset_minus(old, new):
        changes.disappeared.append(Change(path, item))


def _multiset_minus(items: list, others: list) -> list:
    """The items of ``items`` not matched one-for-one by ``others``, in their order."""
    remaining = Counter(_canonical(item) for item in others)
    left = []
    for item in items:
        key = _canonical(item)
        if remaining[key]:
            remaining[key] -= 1
        else:
            left.append(item)
    return left


def _identity_field(old: list, new: list) -> str | None:
    """A field present in every record of both lists, scalar and unique on each side."""
    records = old + new
    if not records or not all(isinstance(item, dict) for item in records):
        return None
    for name in IDENTITY_FIELDS:
        if all(_scalar(item.get(name)) for item in records) and \
                _unique(old, name) and _unique(new, name):
            return name
    return None


def _scalar(value) -> bool:
    return isinstance(value, (str, int, float, bool))


def _unique(items: list, name: str) -> bool:
    values = [_canonical(item[name]) for item in items]
    return len(values) == len(set(values))


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True)


def _label(value) -> str:
    return value if isinstance(value, str) else _canonical(value)


# -- the report section ------------------------------------------------------------------------

SECTION_TITLE = "Changes since the previous successful run"


def report_section(changes: Changes) -> Section:
    """The report items listing the changes (rendered and escaped by the report module)."""
    # "no previous data" covers a first run and a previous run that found nothing
    if changes.no_previous_data and changes:
        intro = f"No data from an earlier successful run: everything below is new " \
                f"({changes.summary()})."
    elif changes.no_previous_data:
        intro = "Nothing found, now or in the previous successful run."
    elif not changes:
        intro = "No change: the data is the same as in the previous successful run."
    else:
        intro = f"{changes.summary()}."
    items = [Text(intro)]
    if changes.appeared:
        items.append(Subsection("Appeared", Data(_by_place(changes.appeared))))
    if changes.disappeared:
        items.append(Subsection("Disappeared", Data(_by_place(changes.disappeared))))
    return Section(SECTION_TITLE, *items)


def _by_place(entries: list[Change]) -> dict:
    """{where: value}, or {where: [values]} when several entries share a place."""
    grouped: dict[str, list] = {}
    for change in entries:
        grouped.setdefault(change.where, []).append(change.value)
    return {where: values[0] if len(values) == 1 else values
            for where, values in grouped.items()}
