"""A harmless sample job, so that a fresh install has something to schedule."""
import platform
import time

from bots_scheduler import Data, JobBase, Section, Table, Text, report


class HelloJob(JobBase):
    info = {
        "job_class_name": "Sample — hello",
        "notes": "Says hello, waits the given number of seconds and reports where it ran. "
                 "Harmless: useful to try the scheduler.",
        "arguments": [
            {"type": "string", "description": "Who to greet"},
            {"type": "integer", "description": "Seconds to wait (optional, default 0)"},
        ],
        "example_arguments": '["world", 0]',
        "report_title": "Hello",
    }

    @report
    def run(self, who="world", wait=0, *args, **kwargs):
        wait = float(wait or 0)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not self.should_stop():
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        return (Section("Greeting", Text(f"Hello, {who}!")),
                Section("Run", Table([["host", platform.node()], ["waited (s)", wait]],
                                     headers=["", ""]),
                        Data({"arguments": [who, wait] + list(args)})))
