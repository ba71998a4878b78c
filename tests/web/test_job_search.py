"""What `GET /api/v1/jobs?q=` covers (web/handlers/joblist.py), as docs/api.md and the OpenAPI
document say: part of the name, of the class string or of the class's display name, in any
case, or the whole job id; never the arguments."""
from __future__ import annotations

import pytest

from bots_scheduler.web.handlers.joblist import job_page

pytestmark = pytest.mark.unit

SHELL = "bots_scheduler.jobs.builtin.shell.ShellJob"
HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
NAMES = {SHELL: "Shell command", HELLO: "Hello"}
JOBS = [
    {"job_id": "a1b2c3", "name": "Nightly backup", "job_class_string": SHELL,
     "pub_args": ["tar czf /backup/db.tgz"], "next_run_time": "", "paused": True},
    {"job_id": "d4e5f6", "name": "Greeter", "job_class_string": HELLO,
     "pub_args": ["backup"], "next_run_time": "2026-12-03T10:00:00+00:00", "paused": False},
]


def found(query: str) -> list[str]:
    return [job["job_id"] for job in job_page(JOBS, NAMES, query=query)["jobs"]]


def test_part_of_the_name_in_any_case():
    assert found("NIGHTLY") == ["a1b2c3"]


def test_part_of_the_class_string_or_of_its_display_name():
    assert found("builtin.sample") == ["d4e5f6"]
    assert found("shell comm") == ["a1b2c3"]


def test_the_whole_id_only():
    assert found("d4e5f6") == ["d4e5f6"]
    assert found("d4e5") == []


def test_the_arguments_are_not_searched():
    assert found("tar czf") == []
    assert found("backup") == ["a1b2c3"]      # the first by its name, not the second


def test_the_counts_are_of_the_matches_and_of_all_jobs():
    page = job_page(JOBS, NAMES, query="greeter")
    assert page["total"] == 1
    assert page["stats"] == {"total": 2, "active": 1, "paused": 1}
