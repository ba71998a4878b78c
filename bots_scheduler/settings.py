"""One Settings object, built once from the command line and the INI files, then passed down.

Every user error found here raises ``UsageError`` with a one-line message; the launcher prints it
and exits with status 2 before anything starts.
"""
from __future__ import annotations

import configparser
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy

DBMS_NAMES = ("sqlite", "postgresql", "mysql")
DEFAULT_SQLITE_NAME = "datastore.db"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class UsageError(Exception):
    """A mistake of the user's: reported as one line, exit status 2."""


@dataclass(frozen=True)
class DatabaseSettings:
    dbms: str
    profile: str
    url: sqlalchemy.URL
    executions_table: str = "scheduler_execution"
    jobs_table: str = "scheduler_jobs"
    files_table: str = "scheduler_files"
    logs_table: str = "scheduler_jobauditlog"
    findings_table: str = "scheduler_findings"

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.database) if self.dbms == "sqlite" else None

    def describe(self) -> str:
        """The URL without its password, for logs and messages."""
        return self.url.render_as_string(hide_password=True)


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    data_dir: Path
    jobs_dirs: tuple[Path, ...] = ()
    debug: bool = False
    local: bool = False
    port: int = 8888
    smtp_config: Path = Path("conf/smtp.ini")
    smtp_profiles: tuple[str, ...] = ()
    alert_config: Path = Path("conf/alerts.ini")
    alert_profiles: tuple[str, ...] = ()
    job_coalesce: bool = True
    job_max_instances: int = 3
    job_misfire: int = 3600
    threadpool_size: int = 2
    timezone: str = "UTC"
    max_workers: int = 8
    certificate: Path | None = None
    htpasswd: Path | None = None
    max_file_size: int = 10 * 1024 * 1024
    job_timeout: float | None = 86400.0      # seconds a run may take (None: no limit)
    retention_days: int = 90                 # executions and logs older are pruned (0: never)
    keep_runs: int = 10                      # the last runs of each job are never pruned
    executor: str = "threads"                # where runs happen: threads | celery
    broker: str | None = None                # the Celery broker URL (--executor celery)
    hostname: str = field(default_factory=lambda: node_hostname())   # shown on executions
    extra: dict = field(default_factory=dict)   # options added by later subsystems

    @property
    def scheduler_port(self) -> int:
        return self.port + 1

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# -- value checks ----------------------------------------------------------------------------

def whole_number(name: str, value, minimum: int = 1) -> int:
    try:
        number = int(str(value), 10)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise UsageError(f"{name} must be at least {minimum}, not {number}")
    return number


def positive_int(name: str, value) -> int:
    return whole_number(name, value, 1)


def non_negative_int(name: str, value) -> int:
    return whole_number(name, value, 0)


_SIZE = re.compile(r"^\s*(\d+)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def byte_size(name: str, value) -> int:
    """A size such as 1048576, 512KiB, 10MiB or 1G (binary units: K = 1024)."""
    match = _SIZE.match(str(value))
    if not match:
        raise UsageError(f"{name} must be a size such as 1048576, 512KiB or 10MiB, "
                         f"not {value!r}")
    size = int(match.group(1)) * _SIZE_FACTORS[match.group(2)[:1].lower()]
    if size < 1:
        raise UsageError(f"{name} must be at least 1 byte")
    return size


def job_timeout(value) -> float | None:
    """--job-timeout: seconds (a whole number); 0 means no limit."""
    seconds = non_negative_int("--job-timeout", value)
    if seconds > 7 * 24 * 3600:
        raise UsageError(f"--job-timeout must be at most 604800 seconds (7 days), not {seconds}")
    return float(seconds) if seconds else None


def port_number(value) -> int:
    try:
        port = int(str(value), 10)
    except ValueError:
        raise UsageError(f"--port must be a whole number, not {value!r}") from None
    if not 1 <= port <= 65534:
        raise UsageError(f"--port must be between 1 and 65534 (the scheduler uses PORT+1), "
                         f"not {port}")
    return port


def timezone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--timezone: unknown time zone {value!r} (use an IANA name such as "
                         f"Europe/Brussels or UTC)") from None
    return value


def table_name(option: str, value: str) -> str:
    if not _IDENTIFIER.match(value or ""):
        raise UsageError(f"{option}: {value!r} is not a plain SQL identifier (letters, digits "
                         f"and _, not starting with a digit, at most 63 characters)")
    return value


def readable_file(option: str, value) -> Path:
    path = Path(value)
    if not path.is_file():
        raise UsageError(f"{option}: {value} does not exist or is not a file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{option}: {value} is not readable")
    return path


def read_ini(option: str, path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc}") from None
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"{option}: {path} is not a valid INI file: {first}") from None
    return parser


# -- database ----------------------------------------------------------------------------------

def database_settings(args, data_dir: Path) -> DatabaseSettings:
    """The datastore chosen by --dbms / --db-profile / --db-config (CONTRACT §2)."""
    profile = args.db_profile or args.dbms
    config_path = Path(args.db_config)
    tables = {name: table_name(f"--{name.replace('_', '-')}", getattr(args, name, default))
              for name, default in (("executions_table", "scheduler_execution"),
                                    ("jobs_table", "scheduler_jobs"),
                                    ("files_table", "scheduler_files"),
                                    ("logs_table", "scheduler_jobauditlog"))}
    if not config_path.exists():
        if profile == "sqlite" and args.db_profile in (None, "sqlite"):
            url = sqlalchemy.URL.create("sqlite", database=str(data_dir / DEFAULT_SQLITE_NAME))
            return DatabaseSettings("sqlite", "sqlite", url, **tables)
        raise UsageError(f"--db-config: {config_path} not found (profile {profile!r} needs it; "
                         f"`bots-scheduler reset` creates it from the template)")
    config = read_ini("--db-config", config_path)
    if not config.has_section(profile):
        if profile == "sqlite" and args.db_profile is None:
            url = sqlalchemy.URL.create("sqlite", database=str(data_dir / DEFAULT_SQLITE_NAME))
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
        path = Path(file_path) if file_path else data_dir / DEFAULT_SQLITE_NAME
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


def data_directory(value) -> Path:
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--data-dir: {value} exists and is not a folder")
    return path


def jobs_folders(given) -> tuple[Path, ...]:
    """-j/--jobs: given folders must exist; the default folder may be missing."""
    from bots_scheduler.cli.definition import DEFAULT_JOBS
    for folder in given or ():
        if not Path(folder).is_dir():
            raise UsageError(f"--jobs: {folder} does not exist or is not a folder")
    return tuple(Path(f) for f in (given or [f for f in DEFAULT_JOBS if Path(f).is_dir()]))


# -- the run command ---------------------------------------------------------------------------

def build_run_settings(args) -> Settings:
    from bots_scheduler.proxy.htpasswd import validate_htpasswd
    from bots_scheduler.proxy.tls import validate_certificate

    data_dir = data_directory(args.data_dir)
    jobs_dirs = jobs_folders(args.jobs)
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
        max_file_size=byte_size("--max-file-size", getattr(args, "max_file_size", "10MiB")),
        job_timeout=job_timeout(getattr(args, "job_timeout", "86400")),
        retention_days=non_negative_int("--retention-days", getattr(args, "retention_days", 90)),
        keep_runs=non_negative_int("--keep-runs", getattr(args, "keep_runs", 10)),
        **executor_options(args),
    )
    from bots_scheduler.notifications.profiles import load_profiles
    load_profiles(settings.smtp_config, settings.smtp_profiles)   # bad SMTP config: exit 2 now
    from bots_scheduler.alerts.profiles import load_alert_config
    load_alert_config(settings.alert_config, settings.alert_profiles)   # bad alerts: exit 2
    return settings


# -- cluster: executors and workers ------------------------------------------------------------

def node_hostname() -> str:
    """The host name recorded on executions and cluster nodes: BOTS_SCHEDULER_HOSTNAME when set
    (containers, several nodes on one machine), else the machine's."""
    return (os.environ.get("BOTS_SCHEDULER_HOSTNAME") or "").strip()[:200] or socket.gethostname()


def executor_options(args) -> dict:
    """--executor and --broker of ``run``."""
    from bots_scheduler.executors.celery_app import broker_url
    executor = getattr(args, "executor", "threads")
    broker = getattr(args, "broker", None)
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
    jobs_dirs = jobs_folders(args.jobs)
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
        job_timeout=job_timeout(getattr(args, "job_timeout", "86400")),
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
