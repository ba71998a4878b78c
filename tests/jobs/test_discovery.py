"""Job discovery: built-ins and job folders, leaf classes only, broken modules skipped,
and the `enabled` flag with all its effects (CONTRACT §4)."""
from __future__ import annotations

import logging

from bots_scheduler.jobs.loader import JobRegistry

FAMILY = '''
from bots_scheduler import *

class BaseCheck(JobBase):
    info = {"job_class_name": "Base (abstract)"}

class PortsCheck(BaseCheck):
    info = {"job_class_name": "Ports", "arguments": [{"type": "string", "description": "k"}]}

    @report
    def run(self, key, **kwargs):
        self._data = {"key": key}
        return Section("Hosts"), Data(self._data)
'''

COMPAT = '''
from botscheduler import *

class Legacy(JobBase):
    info = {"job_class_name": "Legacy import"}

    @report
    def run(self):
        return Text("ok")
'''

BROKEN = "import this_module_does_not_exist\n"

TOGGLE = '''
from bots_scheduler import *

class Toggle(JobBase):
    info = {"job_class_name": "Toggle", "enabled": %s}

    @report
    def run(self):
        return Text("ran")
'''


def write_jobs(folder, **modules):
    folder.mkdir(exist_ok=True)
    for name, text in modules.items():
        (folder / f"{name}.py").write_text(text)
    return folder


def test_only_leaf_classes_are_offered(tmp_path):
    registry = JobRegistry.discover([write_jobs(tmp_path / "jobs", family=FAMILY)])
    assert "family.PortsCheck" in registry.classes
    assert "family.BaseCheck" not in registry.classes


def test_builtin_jobs_always_load(tmp_path):
    registry = JobRegistry.discover([write_jobs(tmp_path / "jobs", family=FAMILY)])
    names = {key.rsplit(".", 1)[1] for key in registry.classes}
    assert {"HelloJob", "ShellCommand", "RawShellCommand"} <= names


def test_the_botscheduler_compatibility_name_works(tmp_path):
    registry = JobRegistry.discover([write_jobs(tmp_path / "jobs", legacy=COMPAT)])
    assert "legacy.Legacy" in registry.classes


def test_a_module_that_fails_to_import_is_logged_with_its_path_and_skipped(tmp_path, caplog):
    folder = write_jobs(tmp_path / "jobs", broken=BROKEN, family=FAMILY)
    with caplog.at_level(logging.ERROR):
        registry = JobRegistry.discover([folder])
    assert "family.PortsCheck" in registry.classes
    assert not any(key.startswith("broken.") for key in registry.classes)
    assert str(folder / "broken.py") in caplog.text
    assert "ModuleNotFoundError" in caplog.text


def test_info_defaults_are_filled_in(tmp_path):
    registry = JobRegistry.discover([write_jobs(tmp_path / "jobs", legacy=COMPAT)])
    info = registry.get("legacy.Legacy").meta_info()
    assert info["enabled"] is True and info["arguments"] == [] and info["notes"] == ""


def test_jobclasses_lists_enabled_classes_with_their_info(server, workdir):
    write_jobs(workdir / "jobs", family=FAMILY, toggle=TOGGLE % "False")
    srv = server()
    classes = {c["job_class_string"]: c for c in
               srv.get("/api/v1/jobclasses").json()["job_classes"]}
    assert classes["family.PortsCheck"]["info"]["job_class_name"] == "Ports"
    assert classes["family.PortsCheck"]["info"]["arguments"][0]["type"] == "string"
    assert "toggle.Toggle" not in classes
    assert "family.BaseCheck" not in classes


def test_a_missing_given_jobs_folder_is_an_error_but_the_default_may_be_missing(server, workdir):
    srv = server()   # no ./jobs folder: fine
    assert srv.get("/api/v1/jobclasses").status_code == 200
    srv.stop()
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "bots_scheduler", "run", "--local", "-j",
                           "nowhere"], cwd=workdir, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "nowhere" in done.stderr and "Traceback" not in done.stderr


def test_a_job_whose_class_becomes_disabled_is_hidden_and_never_triggered(server, workdir):
    jobs = write_jobs(workdir / "jobs", toggle=TOGGLE % "True")
    srv = server()
    job_id = srv.add_job("toggle.Toggle", "toggled", second="*/1")
    srv.wait_for(lambda: srv.get("/api/v1/executions").json()["executions"], what="a run")
    assert srv.get("/api/v1/logs").json()["logs"]
    srv.stop()
    write_jobs(jobs, toggle=TOGGLE % "False")
    srv.start()
    assert srv.get("/api/v1/jobs").json()["jobs"] == []
    assert srv.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert srv.get("/api/v1/executions").json()["executions"] == []
    assert srv.get("/api/v1/logs").json()["logs"] == []
    assert srv.post(f"/api/v1/executions/{job_id}").status_code == 404
    # never triggered: after re-enabling, the window while it was disabled holds no run
    from datetime import datetime, timezone
    import time
    disabled_from = datetime.now(timezone.utc).isoformat()
    time.sleep(2.5)
    disabled_to = datetime.now(timezone.utc).isoformat()
    srv.stop()
    write_jobs(jobs, toggle=TOGGLE % "True")
    srv.start()
    window = srv.get("/api/v1/executions", params={"time_range_start": disabled_from,
                                                  "time_range_end": disabled_to}).json()
    assert window["executions"] == [] and window["total"] == 0
    assert srv.get("/api/v1/executions").json()["total"] >= 1   # visible again


def test_a_job_whose_module_disappeared_ends_in_scheduled_error(server, workdir):
    jobs = write_jobs(workdir / "jobs", toggle=TOGGLE % "True")
    srv = server()
    job_id = srv.add_job("toggle.Toggle", "orphan", second="*/1")
    srv.stop()
    (jobs / "toggle.py").unlink()
    srv.start()
    failed = srv.wait_for(lambda: [e for e in srv.get("/api/v1/executions").json()["executions"]
                                   if e["state"] == "scheduled error"], what="a scheduled error")
    execution = srv.get(f"/api/v1/executions/{failed[0]['execution_id']}").json()
    assert execution["job"]["job_id"] == job_id
    assert "cannot be loaded" in execution["description"]
