"""One Settings object, built once from the command line and the INI files, then passed down.

Defaults live in defaults.py (the command-line definition shows the same ones); value checks in
checks.py. Every user error found here raises ``UsageError`` with a one-line message; the
launcher prints it and exits with status 2 before anything starts.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy

from bots_scheduler import defaults
from bots_scheduler.checks import (byte_size, data_directory, job_timeout, jobs_folders,
                                   non_negative_int, port_number, positive_int, read_ini,
                                   table_name, timezone_name)
from bots_scheduler.errors import UsageError

DBMS_NAMES = ("sqlite", "postgresql", "mysql")
TABLE_OPTIONS = {"executions_table": defaults.EXECUTIONS_TABLE,
                 "jobs_table": defaults.JOBS_TABLE,
                 "files_table": defaults.FILES_TABLE,
                 "logs_table": defaults.LOGS_TABLE,
                 "findings_table": defaults.FINDINGS_TABLE}
# the findings table names three more after it (name_history...): PostgreSQL's 63 characters
MAX_FINDINGS_TABLE = 40


@dataclass(frozen=True)
class DatabaseSettings:
    dbms: str
    profile: str
    url: sqlalchemy.URL
    executions_table: str = defaults.EXECUTIONS_TABLE
    jobs_table: str = defaults.JOBS_TABLE
    files_table: str = defaults.FILES_TABLE
    logs_table: str = defaults.LOGS_TABLE
    findings_table: str = defaults.FINDINGS_TABLE

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.database) if self.dbms == "sqlite" and self.url.database else None

    def describe(self) -> str:
        """The URL without its password, for logs and messages."""
        return self.url.render_as_string(hide_password=True)


def node_hostname() -> str:
    """The host name recorded on executions and cluster nodes: BOTS_SCHEDULER_HOSTNAME when set
    (containers, several nodes on one machine), else the machine's."""
    return (os.environ.get("BOTS_SCHEDULER_HOSTNAME") or "").strip()[:200] or socket.gethostname()


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    data_dir: Path
    jobs_dirs: tuple[Path, ...] = ()
    debug: bool = False
    local: bool = False
    port: int = defaults.PORT
    smtp_config: Path = Path(defaults.SMTP_CONFIG)
    smtp_profiles: tuple[str, ...] = ()
    alert_config: Path = Path(defaults.ALERT_CONFIG)
    alert_profiles: tuple[str, ...] = ()
    job_coalesce: bool = defaults.JOB_COALESCE
    job_max_instances: int = defaults.JOB_MAX_INSTANCES
    job_misfire: int = defaults.JOB_MISFIRE
    threadpool_size: int = defaults.THREADPOOL_SIZE
    timezone: str = defaults.TIMEZONE
    max_workers: int = defaults.MAX_WORKERS
    certificate: Path | None = None
    htpasswd: Path | None = None
    htgroups: Path | None = None              # None: .htgroups beside the htpasswd file
    max_file_size: int = defaults.MAX_FILE_SIZE
    job_timeout: float | None = float(defaults.JOB_TIMEOUT)   # seconds (None: no limit)
    retention_days: int = defaults.RETENTION_DAYS
    keep_runs: int = defaults.KEEP_RUNS
    executor: str = defaults.EXECUTOR        # where runs happen: threads | celery
    broker: str | None = None                # the Celery broker URL (--executor celery)
    hostname: str = field(default_factory=node_hostname)   # shown on executions
    extra: dict = field(default_factory=dict)   # options added by later subsystems

    @property
    def scheduler_port(self) -> int:
        return self.port + 1

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# -- database ----------------------------------------------------------------------------------

def database_settings(args, data_dir: Path) -> DatabaseSettings:
    """The datastore chosen by --dbms / --db-profile / --db-config (CONTRACT §2)."""
    profile = args.db_profile or args.dbms
    config_path = Path(args.db_config)
    tables = {name: table_name(f"--{name.replace('_', '-')}", getattr(args, name, default))
              for name, default in TABLE_OPTIONS.items()}
    if len(tables["findings_table"]) > MAX_FINDINGS_TABLE:
        raise UsageError(f"--findings-table: at most {MAX_FINDINGS_TABLE} characters (the "
                         f"tables {tables['findings_table']}_history, _runs and _counts are "
                         f"named after it)")
    if not config_path.exists():
        if profile == "sqlite" and args.db_profile in (None, "sqlite"):
            url = sqlalchemy.URL.create("sqlite", database=str(data_dir / defaults.SQLITE_NAME))
            return DatabaseSettings("sqlite", "sqlite", url, **tables)
        raise UsageError(f"--db-config: {config_path} not found (profile {profile!r} needs it; "
                         f"`bots-scheduler reset` creates it from the template)")
    config = read_ini("--db-config", config_path)
    if not config.has_section(profile):
        if profile == "sqlite" and args.db_profile is None:
            url = sqlalchemy.URL.create("sqlite", database=str(data_dir / defaults.SQLITE_NAME))
            return DatabaseSettings("sqlite", "sqlite", url, **tables)
        available = ", ".join(config.sections()) or "none"
        raise UsageError(f"--db-profile: no profile {profile!r} in {config_path} "
                         f"(available: {available})")
    section = config[profile]
    dbms = section.get("dbms", profile if profile in DBMS_NAMES else args.dbms).strip()
    if dbms not in DBMS_NAMES:
        raise UsageError(f"{config_path} [{profile}]: dbms must be one of "
                         f"{', '.join(DBMS_NAMES)}, not {dbms!r}")
    if dbms == "sqlite":
        file_path = section.get("file_path", "").strip()
        path = Path(file_path) if file_path else data_dir / defaults.SQLITE_NAME
        url = sqlalchemy.URL.create("sqlite", database=str(path))
        return DatabaseSettings(dbms, profile, url, **tables)
    missing = [key for key in ("user", "hostname", "database") if not section.get(key, "").strip()]
    if missing:
        raise UsageError(f"{config_path} [{profile}]: missing {', '.join(missing)}")
    port_text = section.get("port", "").strip()
    port = None
    if port_text:
        try:
            port = int(port_text)
            if not 1 <= port <= 65535:
                raise ValueError
        except ValueError:
            raise UsageError(f"{config_path} [{profile}]: port must be 1-65535, "
                             f"not {port_text!r}") from None
    query = {}
    if dbms == "postgresql":
        driver = "postgresql+psycopg"
        if section.get("sslmode", "").strip():
            query["sslmode"] = section["sslmode"].strip()
    else:
        driver = "mysql+pymysql"
        query["charset"] = "utf8mb4"
    url = sqlalchemy.URL.create(driver, username=section["user"].strip(),
                                password=section.get("password", "") or None,
                                host=section["hostname"].strip(), port=port,
                                database=section["database"].strip(), query=query)
    return DatabaseSettings(dbms, profile, url, **tables)


# -- the run command ---------------------------------------------------------------------------

def build_run_settings(args) -> Settings:
    from bots_scheduler.proxy.htgroups import validate_htgroups
    from bots_scheduler.proxy.htpasswd import validate_htpasswd
    from bots_scheduler.proxy.tls import validate_certificate

    data_dir = data_directory(args.data_dir)
    jobs_dirs = jobs_folders(args.jobs, defaults.JOBS_DIRS)
    port = port_number(args.port)
    settings = Settings(
        database=database_settings(args, data_dir),
        data_dir=data_dir,
        jobs_dirs=jobs_dirs,
        debug=args.debug,
        local=args.local,
        port=port,
        smtp_config=Path(args.smtp_config),
        smtp_profiles=tuple(args.smtp_profile or ()),
        alert_config=Path(args.alert_config),
        alert_profiles=tuple(args.alert_profile or ()),
        job_coalesce=args.job_coalesce,
        job_max_instances=positive_int("--job-max-instances", args.job_max_instances),
        job_misfire=positive_int("--job-misfire", args.job_misfire),
        threadpool_size=positive_int("--threadpool-size", args.threadpool_size),
        timezone=timezone_name(args.timezone),
        max_workers=positive_int("--max-workers", args.max_workers),
        certificate=validate_certificate(args.certificate) if args.certificate else None,
        htpasswd=validate_htpasswd(args.htpasswd) if args.htpasswd else None,
        htgroups=validate_htgroups(getattr(args, "htgroups", None), args.htpasswd, args.local),
        max_file_size=byte_size("--max-file-size", args.max_file_size),
        job_timeout=job_timeout(args.job_timeout),
        retention_days=non_negative_int("--retention-days", args.retention_days),
        keep_runs=non_negative_int("--keep-runs", args.keep_runs),
        **executor_options(args),
    )
    from bots_scheduler.notifications.profiles import load_profiles
    load_profiles(settings.smtp_config, settings.smtp_profiles)   # bad SMTP config: exit 2 now
    from bots_scheduler.alerts.profiles import load_alert_config
    load_alert_config(settings.alert_config, settings.alert_profiles)   # bad alerts: exit 2
    return settings


def build_offline_settings(args) -> Settings:
    """``export`` and ``import``: the datastore and the job folders, nothing that listens."""
    data_dir = data_directory(args.data_dir)
    return Settings(database=database_settings(args, data_dir), data_dir=data_dir,
                    jobs_dirs=jobs_folders(args.jobs, defaults.JOBS_DIRS), local=True,
                    timezone=timezone_name(args.timezone))


# -- cluster: executors and workers ------------------------------------------------------------

def executor_options(args) -> dict:
    """--executor and --broker of ``run``."""
    from bots_scheduler.executors.celery_app import broker_url
    executor, broker = args.executor, args.broker
    if executor == "celery" and not broker:
        raise UsageError("--executor celery needs --broker URL (for example "
                         "redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//)")
    if executor != "celery" and broker:
        raise UsageError("--broker is only used with --executor celery")
    return {"executor": executor, "broker": broker_url(broker) if broker else None}


def build_worker_settings(args) -> Settings:
    """``bots-scheduler worker``: the datastore, job folders, data folder and SMTP profiles of
    the schedulers, and the broker they send runs to."""
    from bots_scheduler.executors.celery_app import broker_url
    data_dir = data_directory(args.data_dir)
    jobs_dirs = jobs_folders(args.jobs, defaults.JOBS_DIRS)
    settings = Settings(
        database=database_settings(args, data_dir),
        data_dir=data_dir,
        jobs_dirs=jobs_dirs,
        debug=args.debug,
        local=True,
        smtp_config=Path(args.smtp_config),
        smtp_profiles=tuple(args.smtp_profile or ()),
        alert_config=Path(args.alert_config),
        alert_profiles=tuple(args.alert_profile or ()),
        threadpool_size=positive_int("--concurrency", args.concurrency),
        timezone=timezone_name(args.timezone),
        job_timeout=job_timeout(args.job_timeout),
        executor="celery",
        broker=broker_url(args.broker),
        retention_days=0,       # pruning is the schedulers' business
        extra={"worker_name": args.name or ""},
    )
    from bots_scheduler.notifications.profiles import load_profiles
    load_profiles(settings.smtp_config, settings.smtp_profiles)   # bad SMTP config: exit 2 now
    from bots_scheduler.alerts.profiles import load_alert_config
    load_alert_config(settings.alert_config, settings.alert_profiles)   # bad alerts: exit 2
    return settings
