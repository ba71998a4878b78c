"""JobBase: what a job author subclasses (CONTRACT §4)."""
from __future__ import annotations

import threading

DEFAULT_INFO = {
    "job_class_name": "",
    "notes": "",
    "arguments": [],
    "example_arguments": "",
    "report_title": "",
    "enabled": True,
    # opt-in: notify only what changed since the previous successful run (notifications)
    "notify_changes": False,
}


class JobFailed(Exception):
    """Raised by a job to end its run ``failed`` while still keeping a report.

    ``report_html`` (for example the output of a ``@report`` method) becomes the execution's
    result; without it the report just says the message.
    """

    def __init__(self, message, report_html=None):
        super().__init__(message)
        self.report_html = report_html


class JobTimedOut(JobFailed):
    """Raised by a job that gave up on its own time limit: the run ends ``timeout``."""


class JobBase:
    """Base class of every job.

    A job overrides ``info`` and ``run``.  ``run`` receives the job's ``pub_args`` positionally
    (``file`` arguments as absolute paths inside the data folder) and returns report items,
    usually through the ``@report`` decorator.  Setting ``self._data`` to something non-empty
    marks the run as having found something (notifications); ``self._notify`` forces the choice.
    """

    info: dict = {}

    def __init__(self, job_id: str, execution_id: str, context=None):
        self.job_id = job_id
        self.execution_id = execution_id
        self.context = context          # JobContext: data folder, job name, stop event...
        self._data = None
        self._notify = None
        self._report_items = None
        self.stop_event = getattr(context, "stop_event", None) or threading.Event()

    @classmethod
    def meta_info(cls) -> dict:
        """``info`` with every key present (defaults filled in)."""
        merged = dict(DEFAULT_INFO)
        merged.update(cls.info or {})
        if not merged["job_class_name"]:
            merged["job_class_name"] = cls.__name__
        merged["arguments"] = list(merged.get("arguments") or [])
        return merged

    @classmethod
    def is_enabled(cls) -> bool:
        return bool(cls.meta_info().get("enabled", True))

    @property
    def data_dir(self):
        return getattr(self.context, "data_dir", None)

    def should_stop(self) -> bool:
        """Long-running jobs poll this to stop cooperatively (server shutdown, timeout)."""
        return self.stop_event.is_set()

    def run(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement run()")
