"""What happens around a run: the argument resolvers before it, the post-run steps after it.

Both are ordered lists built in the composition root (app.py), so that the whole path from a
firing to a report, a finding and an e-mail reads in one place:

- resolvers: ``resolver(job_class, arguments, run_context) -> arguments``, in order.  The first
  one turns ``file`` arguments into absolute paths of the data folder; later ones may replace
  other arguments (e.g. secret references, CONTRACT §7: add the value to
  ``run_context.sensitive`` so that reports show ``[secret:NAME]`` instead).  Raise
  ``ArgumentError`` to fail the run with a "Bad argument" report.
- post-run steps: ``step(finished_run) -> None``, in order, each named.  Steps before
  ``"record"`` may change ``finished_run.outcome`` (its state, its report items): the record
  step renders and stores what they leave.  Steps after it see the stored execution (retries,
  metrics, notifications, alerts).  A step that raises is logged and the next one runs: a
  broken notification never loses a run's state.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bots_scheduler.datafiles.validation import DataFileError, check_name
from bots_scheduler.executions.outcome import FinishedRun

log = logging.getLogger(__name__)

Step = Callable[[FinishedRun], None]
RECORD = "record"


class ArgumentError(Exception):
    """A job argument that cannot be used (a file outside the data folder, a missing file)."""


class PostRunSteps:
    """An ordered list of named steps."""

    def __init__(self, steps: list[tuple[str, Step]] | None = None):
        self._steps: list[tuple[str, Step]] = list(steps or [])

    def names(self) -> list[str]:
        return [name for name, _step in self._steps]

    def append(self, name: str, step: Step) -> None:
        self._check_new(name)
        self._steps.append((name, step))

    def insert_before(self, anchor: str, name: str, step: Step) -> None:
        self._check_new(name)
        self._steps.insert(self._index(anchor), (name, step))

    def insert_after(self, anchor: str, name: str, step: Step) -> None:
        self._check_new(name)
        self._steps.insert(self._index(anchor) + 1, (name, step))

    def run(self, finished: FinishedRun) -> None:
        for name, step in list(self._steps):
            try:
                step(finished)
            except Exception:
                log.exception("post-run step %r failed for execution %s", name,
                              finished.execution_id)

    def _index(self, name: str) -> int:
        for index, (known, _step) in enumerate(self._steps):
            if known == name:
                return index
        raise KeyError(f"no post-run step named {name!r} (steps: {', '.join(self.names())})")

    def _check_new(self, name: str) -> None:
        if name in self.names():
            raise ValueError(f"a post-run step named {name!r} exists already")


# -- the resolvers -------------------------------------------------------------------------------

class SecretArguments:
    """``{"secret": NAME}`` arguments become the secret's value, read here, in the process that
    runs the job (CONTRACT §7); the values join the run's sensitive values, so that its report
    shows ``[secret:NAME]`` instead.  ``secrets``: the SecretStore."""

    def __init__(self, secrets):
        self.secrets = secrets

    def __call__(self, job_class, arguments: list, context) -> list:
        from bots_scheduler.secrets.arguments import (InvalidReference, MissingSecret,
                                                      plain_secret_values, resolve)
        from bots_scheduler.secrets.keys import KeyUnavailable
        try:
            resolved, values = resolve(arguments, self.secrets)
        except (MissingSecret, KeyUnavailable, InvalidReference) as exc:
            raise ArgumentError(str(exc)) from None
        context.sensitive.update(values)
        # plain values of secret-typed arguments (jobs made before secrets) are hidden too
        context.sensitive.update(plain_secret_values(job_class, arguments))
        return resolved


def resolve_data_files(job_class, arguments: list, context) -> list:
    """``file`` arguments become absolute paths inside the data folder."""
    specs = job_class.meta_info()["arguments"]
    resolved = list(arguments)
    for index, spec in enumerate(specs):
        if index >= len(resolved) or not isinstance(spec, dict) or spec.get("type") != "file":
            continue
        resolved[index] = resolve_data_file(resolved[index], context.data_dir)
    return resolved


def resolve_data_file(value, data_dir: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"file argument {value!r} is not a file name of the data folder")
    try:
        check_name(value)   # only what the Files API accepts: never datastore.db.lock & co.
    except DataFileError as exc:
        raise ArgumentError(f"file argument: {exc.message}") from None
    root = data_dir.resolve()
    candidate = (root / value).resolve()
    if candidate != root and root not in candidate.parents:
        raise ArgumentError(f"file argument {value!r} leaves the data folder")
    if not candidate.is_file():
        raise ArgumentError(f"data file {value!r} does not exist in the data folder "
                            f"(upload it, or fix the job's arguments)")
    return str(candidate)
