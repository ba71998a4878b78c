"""The one Celery task: run a recorded execution with this worker's Runner."""
from __future__ import annotations

from bots_scheduler.executors.celery_app import TASK_NAME


def register_tasks(celery, runner):
    @celery.task(name=TASK_NAME, ignore_result=True)
    def run_execution(execution_id: str, job_class_string: str, job_id: str, pub_args: list,
                      options: dict):
        runner.run(job_class_string, job_id, list(pub_args), dict(options), execution_id)

    return run_execution
