"""Search, sort and page the job list for GET /api/v1/jobs (the UI shows 50 of 10,000 jobs)."""
from __future__ import annotations

from datetime import datetime

SORTS = ("name", "job_class", "next_run_time", "status")


def job_page(jobs: list[dict], class_names: dict, query: str = "", sort: str = "",
             order: str = "asc", limit: int | None = None, offset: int = 0) -> dict:
    """``{"jobs", "total", "stats"}``: ``total`` counts the matches, ``stats`` every job."""
    paused = sum(1 for job in jobs if job.get("paused"))
    stats = {"total": len(jobs), "active": len(jobs) - paused, "paused": paused}
    if query:
        needle = query.lower()
        jobs = [job for job in jobs if needle in job["name"].lower()
                or needle in job["job_class_string"].lower()
                or needle in class_names.get(job["job_class_string"], "").lower()
                or needle == job["job_id"]]
    if sort:
        jobs = sorted(jobs, key=_sort_key(sort, class_names), reverse=(order == "desc"))
    end = None if limit is None else offset + limit
    return {"jobs": jobs[offset:end], "total": len(jobs), "stats": stats}


def _sort_key(sort: str, class_names: dict):
    if sort == "name":
        return lambda job: (job["name"].lower(), job["job_id"])
    if sort == "job_class":
        return lambda job: (
            class_names.get(job["job_class_string"], job["job_class_string"]).lower(),
            job["name"].lower())
    if sort == "next_run_time":
        # paused jobs (no next run) last when ascending
        return lambda job: (job.get("paused", False), _timestamp(job["next_run_time"]),
                            job["name"].lower())
    return lambda job: (job.get("paused", False), job["name"].lower())


def _timestamp(iso: str) -> float:
    # jobs may run in different time zones: compare instants, not strings
    return datetime.fromisoformat(iso).timestamp() if iso else 0.0
