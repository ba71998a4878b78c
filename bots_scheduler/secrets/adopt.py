"""Moving plain values out of jobs: each plain string at a secret-typed argument becomes a named
secret (one per distinct value) and the job references it (``bots-scheduler secret adopt``).

A secret's name comes from the argument's description (``Shodan API key`` ->
``Shodan_API_key``, then ``-2``, ``-3``... for other values).  An existing secret holding the
same value is reused.  Each job change is audited like any other modification, masked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bots_scheduler.secrets.arguments import MASK, reference_name, secret_positions


@dataclass
class Adoption:
    job_id: str
    job_name: str
    position: int
    secret: str
    new_secret: bool


def _base_name(klass, position: int) -> str:
    specs = klass.meta_info().get("arguments") or []
    text = specs[position].get("description", "") if position < len(specs) else ""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.-")[:56]
    return name or f"{klass.__name__}_{position + 1}"[:56]


def adopt(scheduler, store, user: str, dry_run: bool = False) -> list[Adoption]:
    registry = scheduler.registry
    names = store.names()
    by_value = {value: name for name, value in store.values(names).items()}
    done: list[Adoption] = []
    for view in scheduler.list_jobs():
        klass = registry.get(view["job_class_string"])
        positions = secret_positions(klass)
        if not positions:
            continue
        stored = scheduler.stored_arguments(view["job_id"])
        changed = list(stored)
        for index in positions:
            value = stored[index] if index < len(stored) else None
            if not isinstance(value, str) or not value or value == MASK \
                    or reference_name(value) is not None:
                continue
            name, new = by_value.get(value), False
            if name is None:
                base, counter = _base_name(klass, index), 1
                name = base
                while name in names:
                    counter += 1
                    name = f"{base}-{counter}"
                names.add(name)
                by_value[value] = name
                new = True
                if not dry_run:
                    store.create(name, value, user)
            changed[index] = {"secret": name}
            done.append(Adoption(view["job_id"], view["name"], index, name, new))
        if changed != stored and not dry_run:
            scheduler.modify_job(view["job_id"], {"pub_args": changed}, user)
    return done
