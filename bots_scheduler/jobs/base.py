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

    ``report`` becomes the execution's report: a ``Report`` (what a ``@report`` method
    returns), a list of report items (shown under the job's report title), or HTML text built
    with ``render_report`` (the older API).  Without it the report just says the message.
    """

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report

    @property
    def report_html(self) -> str | None:
        """The report as HTML (older name; the runner renders ``report`` itself)."""
        from bots_scheduler.jobs.report import Report
        if self.report is None or isinstance(self.report, str):
            return self.report
        return Report.of(self.report, "").html()


class JobTimedOut(JobFailed):
    """Raised by a job that gave up on its own time limit: the run ends ``timeout``."""


class JobBase:
    """Base class of every job.

    A job overrides ``info`` and ``run``.  ``run`` receives the job's ``pub_args`` positionally
    (``file`` arguments as absolute paths inside the data folder) and returns report items,
    usually through the ``@report`` decorator.

    What the run found goes in ``self.data`` (stored with the execution; non-empty data sends
    the notifications).  ``self.notify`` is ``None`` (decide from the data), ``True`` (always
    notify) or ``False`` (never).  ``self._data`` and ``self._notify`` are the older names of
    the same two attributes.
    """

    info: dict = {}

    def __init__(self, job_id: str, execution_id: str, context=None):
        self.job_id = job_id
        self.execution_id = execution_id
        self.context = context          # RunContext: data folder, job name, stop event...
        self.data = None
        self.notify: bool | None = None
        self.stop_event = getattr(context, "stop_event", None) or threading.Event()

    # the plugin API before ``data``/``notify`` (CONTRACT §9 keeps them working)
    @property
    def _data(self):
        return self.data

    @_data.setter
    def _data(self, value):
        self.data = value

    @property
    def _notify(self):
        return self.notify

    @_notify.setter
    def _notify(self, value):
        self.notify = value

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
