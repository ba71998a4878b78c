"""Bots Scheduler: cron-style scheduling of security and OSINT bot jobs.

Job modules do ``from bots_scheduler import *`` to get the plugin API (CONTRACT §4).
"""
from bots_scheduler.jobs.finding import Finding
from bots_scheduler.jobs.base import JobBase, JobFailed
from bots_scheduler.jobs.report import (Code, Data, Image, List, Report, Section, Subsection,
                                        Table, Text, Title, report)

__version__ = "1.0.0.dev0"

__all__ = ["JobBase", "JobFailed", "report", "Report", "Section", "Subsection", "Title", "Text",
           "Code", "List", "Table", "Data", "Image", "Finding"]
