"""A job module for the secrets tests, written into the jobs folder of the server under test."""

SOURCE = '''
import hashlib
from bots_scheduler import *


class KeyedJob(JobBase):
    info = {
        "job_class_name": "Keyed job",
        "arguments": [{"type": "secret", "description": "API key"},
                      {"type": "string", "description": "Label"}],
        "example_arguments": '["KEY", "label"]',
    }

    @report
    def run(self, api_key, label="", **kwargs):
        digest = hashlib.sha256(str(api_key).encode()).hexdigest()
        self._data = {"label": label}
        return Section("Key"), Text("sha256 " + digest), Text("label " + label)


class Echo(JobBase):
    info = {"job_class_name": "Echo", "arguments": [{"type": "string", "description": "text"}]}

    @report
    def run(self, text, **kwargs):
        print("echo: " + text)
        return Section("Echo"), Code(text), Text("and " + text)
'''


def write_jobs(workdir) -> list[str]:
    folder = workdir / "jobs"
    folder.mkdir(exist_ok=True)
    (folder / "keyed.py").write_text(SOURCE)
    return ["-j", str(folder)]


KEYED = "keyed.KeyedJob"
ECHO = "keyed.Echo"
