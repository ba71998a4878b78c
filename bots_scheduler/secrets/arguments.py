"""Secrets in job arguments: references ``{"secret": "NAME"}`` and masking of plain values.

A reference may stand at any position of ``pub_args`` (a job that does not declare its
arguments can use one too).  A position a job class declares ``'type': 'secret'`` may still
hold a plain string (jobs made before secrets existed): every view of the job shows it as
``MASK``, and a change that sends ``MASK`` back keeps the stored value.
"""
from __future__ import annotations

from bots_scheduler.errors import InvalidInput
from bots_scheduler.secrets.redaction import SENSITIVE
from bots_scheduler.secrets.store import NAME

MASK = "********"


class InvalidReference(InvalidInput):
    """A malformed or unknown reference (HTTP 400)."""


class MissingSecret(LookupError):
    """A referenced secret is gone at run time (the run fails with a clear report)."""


def reference_name(argument) -> str | None:
    """NAME for ``{"secret": NAME}``, None for anything else."""
    if isinstance(argument, dict) and len(argument) == 1 and "secret" in argument:
        return argument["secret"]
    return None


def references(pub_args) -> list[str]:
    names = []
    for index, argument in enumerate(pub_args or ()):
        name = reference_name(argument)
        if name is None:
            continue
        if not isinstance(name, str) or not NAME.match(name):
            raise InvalidReference(f"pub_args[{index}]: a secret reference is "
                                  f"{{\"secret\": \"NAME\"}} with NAME of 1-64 letters, digits, "
                                  f"'_', '.' or '-', not {name!r}")
        names.append(name)
    return names


def check_references(pub_args, known) -> None:
    """Every reference names a stored secret (``known`` is a set of names or a callable that
    returns one, only called when there are references)."""
    names = references(pub_args)
    if not names:
        return
    known = known() if callable(known) else known
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise InvalidReference(f"unknown secret(s) {', '.join(map(repr, unknown))}: store them "
                              f"first (POST /api/v1/secrets or bots-scheduler secret set NAME)")


def secret_positions(klass) -> tuple[int, ...]:
    """Indexes of the arguments a job class declares ``'type': 'secret'``."""
    if klass is None:
        return ()
    specs = klass.meta_info().get("arguments") or []
    return tuple(i for i, spec in enumerate(specs)
                 if isinstance(spec, dict) and spec.get("type") == "secret")


def mask(pub_args, positions) -> list:
    """``pub_args`` with the plain values of secret-typed positions replaced by MASK."""
    args = list(pub_args)
    for index in positions:
        if index < len(args) and reference_name(args[index]) is None \
                and args[index] not in (None, ""):
            args[index] = MASK
    return args


def unmask(new_args, old_args, positions) -> list:
    """A changed ``pub_args`` where MASK at a secret-typed position keeps the stored value."""
    args = list(new_args)
    for index in positions:
        if index < len(args) and args[index] == MASK:
            if old_args is None or index >= len(old_args) or old_args[index] in (None, MASK):
                raise InvalidReference(
                    f"pub_args[{index}] is the mask {MASK!r} but no value is stored there: "
                    f"give the value, or a reference {{\"secret\": \"NAME\"}}")
            args[index] = old_args[index]
    return args


def resolve(pub_args, store) -> tuple[list, dict[str, str]]:
    """The arguments with every reference replaced by its value, and {name: value} used.
    MissingSecret names the secrets that are gone."""
    names = references(pub_args)
    if not names:
        return list(pub_args), {}
    values = store.values(names)
    SENSITIVE.add(values)      # this process's log lines and output never show them
    missing = sorted(set(names) - set(values))
    if missing:
        raise MissingSecret(f"secret(s) {', '.join(map(repr, missing))} used by this job "
                            f"no longer exist: store them again, or change the job's arguments")
    return [values[reference_name(a)] if reference_name(a) is not None else a
            for a in pub_args], values


def plain_secret_values(job_class, pub_args) -> dict[str, str]:
    """{label: value} of the plain (not referenced) strings at the positions ``job_class``
    declares secret-typed: they are hidden like secrets, as ``[secret:argument N]``."""
    found = {f"argument {i + 1}": pub_args[i] for i in secret_positions(job_class)
             if i < len(pub_args) and isinstance(pub_args[i], str) and pub_args[i]
             and pub_args[i] != MASK}
    SENSITIVE.add(found)       # this process's log lines and output never show them
    return found


def jobs_using(jobs) -> dict[str, list[str]]:
    """{secret name: [ids of the jobs (views) whose arguments reference it]}."""
    used: dict[str, list[str]] = {}
    for job in jobs:
        try:
            names = set(references(job.get("pub_args") or ()))
        except InvalidReference:     # a malformed reference stored before validation existed
            continue
        for name in names:
            used.setdefault(name, []).append(job["job_id"])
    return used
