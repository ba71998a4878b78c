"""Every default of the settings, declared once (CONTRACT §1).

``Settings`` (settings.py) and the command-line definition (cli/definition.py, which shows them
in ``--help`` as ``(default: …)``) both read them here; so do the subsystems that need a default
when no Settings object exists (data files checked by the tests, for instance). Imports nothing
of ours.
"""
from __future__ import annotations

# -- base options
JOBS_DIRS = ("jobs",)             # a missing default folder is fine, a missing given one is not
DATA_DIR = "data"
PORT = 8888                       # the proxy; the scheduler listens on PORT + 1
MAX_FILE_SIZE = 10 * 1024 * 1024  # bytes; --help shows it as 10MiB

# -- notification options
SMTP_CONFIG = "conf/smtp.ini"
ALERT_CONFIG = "conf/alerts.ini"

# -- database options
DBMS = "sqlite"
DB_CONFIG = "conf/db.ini"
SQLITE_NAME = "datastore.db"      # inside the data folder when no db.ini names a file
EXECUTIONS_TABLE = "scheduler_execution"
JOBS_TABLE = "scheduler_jobs"
FILES_TABLE = "scheduler_files"
LOGS_TABLE = "scheduler_jobauditlog"
FINDINGS_TABLE = "scheduler_findings"   # and its _history, _runs and _counts tables
RETENTION_DAYS = 90               # executions and logs older are pruned (0: never)
KEEP_RUNS = 10                    # the last runs of each job are never pruned

# -- APScheduler options
JOB_COALESCE = True
JOB_MAX_INSTANCES = 3
JOB_MISFIRE = 3600                # seconds
THREADPOOL_SIZE = 2
TIMEZONE = "UTC"
JOB_TIMEOUT = 86400               # seconds a run may take; 0: no limit

# -- Tornado options
MAX_WORKERS = 8

# -- cluster options
EXECUTOR = "threads"              # threads | celery
WORKER_CONCURRENCY = 2            # runs at the same time in one `bots-scheduler worker`

# -- other commands
PASSWD_HTPASSWD = ".htpasswd"     # the file `bots-scheduler passwd` changes
