"""Discovery of job classes: the built-in jobs and every module of the job folders.

A job class is a leaf subclass of JobBase defined in a module (an intermediate base class that
another job class extends is not offered).  ``job_class_string`` is ``<module>.<ClassName>``;
for the built-in jobs the module is the full dotted path inside the package.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import pkgutil
import sys
from pathlib import Path

from bots_scheduler.jobs.base import JobBase

log = logging.getLogger(__name__)

BUILTIN_PACKAGE = "bots_scheduler.jobs.builtin"
_USER_PREFIX = "_bots_scheduler_jobs"


class JobRegistry:
    """The job classes found at start-up, by ``job_class_string``."""

    def __init__(self, classes: dict[str, type[JobBase]] | None = None):
        self.classes: dict[str, type[JobBase]] = dict(classes or {})

    # -- discovery -------------------------------------------------------------------------
    @classmethod
    def discover(cls, folders=(), include_builtin=True) -> "JobRegistry":
        found: dict[str, type[JobBase]] = {}
        if include_builtin:
            package = importlib.import_module(BUILTIN_PACKAGE)
            for info in pkgutil.iter_modules(package.__path__):
                if info.name.startswith("_"):
                    continue
                name = f"{BUILTIN_PACKAGE}.{info.name}"
                try:
                    module = importlib.import_module(name)
                except Exception:
                    log.exception("built-in job module %s failed to import; skipped", name)
                    continue
                _collect(module, name, found)
        for folder in folders:
            for path in sorted(Path(folder).glob("*.py")):
                if path.name.startswith("_"):
                    continue
                stem = path.stem
                if any(key.rsplit(".", 1)[0] == stem for key in found):
                    log.error("job module %s: a module named %r was already loaded from another "
                              "folder; skipped", path, stem)
                    continue
                module = _import_file(path, stem)
                if module is not None:
                    _collect(module, stem, found)
        leaves = {key: klass for key, klass in found.items()
                  if not any(other is not klass and issubclass(other, klass)
                             for other in found.values())}
        return cls(leaves)

    # -- queries ---------------------------------------------------------------------------
    def get(self, job_class_string: str) -> type[JobBase] | None:
        return self.classes.get(job_class_string)

    def is_enabled(self, job_class_string: str) -> bool:
        klass = self.get(job_class_string)
        return klass is not None and klass.is_enabled()

    def enabled(self) -> dict[str, type[JobBase]]:
        return {key: klass for key, klass in self.classes.items() if klass.is_enabled()}

    def disabled_names(self) -> set[str]:
        return {key for key, klass in self.classes.items() if not klass.is_enabled()}

    def describe(self) -> list[dict]:
        """The enabled job classes as ``GET /api/v1/jobclasses`` lists them."""
        return [{"job_class_string": key, "name": klass.meta_info()["job_class_name"],
                 "info": klass.meta_info()}
                for key, klass in sorted(
                    self.enabled().items(),
                    key=lambda kv: kv[1].meta_info()["job_class_name"].lower())]


def _import_file(path: Path, stem: str):
    folder = str(path.parent.resolve())
    if folder not in sys.path:
        sys.path.append(folder)   # so that a job module can import its sibling helpers
    internal = f"{_USER_PREFIX}.{stem}"
    try:
        spec = importlib.util.spec_from_file_location(internal, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[internal] = module
        spec.loader.exec_module(module)
        return module
    except Exception as exc:
        sys.modules.pop(internal, None)
        log.error("job module %s failed to import (%s: %s); skipped", path, type(exc).__name__, exc)
        log.debug("import failure of %s", path, exc_info=True)
        return None


def _collect(module, prefix: str, found: dict) -> None:
    for name, obj in inspect.getmembers(module, inspect.isclass):
        if obj is JobBase or not issubclass(obj, JobBase):
            continue
        if obj.__module__ != module.__name__:
            continue   # imported into the module, defined elsewhere
        found[f"{prefix}.{name}"] = obj
