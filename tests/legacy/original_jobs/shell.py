"""A command's output, written as the original Bots Scheduler's job modules were."""
import subprocess

from botscheduler import *


class OriginalShellCommand(JobBase):
    info = {
        'job_class_name': "Shell command (original style)",
        'arguments': [{'type': 'list', 'description': 'Tokenized OS command'}],
        'example_arguments': '["echo", "hello"]',
    }

    @report
    def run(self, *args, **kwargs):
        out = subprocess.check_output(args, stderr=subprocess.PIPE)
        return Section(" ".join(args)), Code(out.decode("utf-8"))
