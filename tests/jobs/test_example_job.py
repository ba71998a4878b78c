"""The example job of docs/writing-jobs.md: it is loaded as a job folder would be, and runs."""
import re
import socket
from pathlib import Path

import pytest

from bots_scheduler import JobFailed
from bots_scheduler.jobs.loader import JobRegistry
from tests.jobs.helpers import closed_port, text_of

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = DOCS / "examples" / "ports_check.py"


@pytest.fixture
def port_check_class():
    registry = JobRegistry.discover([DOCS / "examples"], include_builtin=False)
    return registry.get("ports_check.PortsCheck")


@pytest.fixture
def listening_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_the_guide_shows_the_example_file_verbatim():
    guide = (DOCS / "writing-jobs.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
    assert EXAMPLE.read_text() in blocks


def test_the_example_is_discovered_as_a_job_class(port_check_class):
    assert port_check_class is not None
    assert port_check_class.meta_info()["job_class_name"] == "Example — TCP ports check"


def test_the_example_reports_open_and_closed_ports(port_check_class, context, data_file,
                                                   listening_port):
    closed = closed_port()
    job = port_check_class("j1", "e1", context)
    html = job.run(f"{listening_port},{closed}", data_file("hosts.txt", "127.0.0.1\n"), 1).html()
    text = text_of(html)
    assert f"127.0.0.1 {listening_port} open" in text
    assert f"127.0.0.1 {closed} closed" in text
    assert job._data == {"127.0.0.1": [listening_port]}


def test_the_example_refuses_a_bad_port_list(port_check_class, context, data_file):
    with pytest.raises(JobFailed, match="'http' is not a TCP port number"):
        port_check_class("j1", "e1", context).run("22,http", data_file("hosts.txt", "x\n"))
