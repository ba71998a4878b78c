"""The command line, declared as data, grouped the way ``--help`` shows it (CONTRACT §1).

Nothing here acts on the options: ``settings.py`` turns them into one Settings object. Every
default comes from ``defaults.py``, where Settings reads its own. New options go here, in the
group ``--help`` shows them in, with their default declared in ``defaults.py``.
"""
from __future__ import annotations

import argparse

from bots_scheduler import __version__, defaults
from bots_scheduler.checks import size_text

DEFAULT_JOBS = list(defaults.JOBS_DIRS)

ROLE_CHOICES = ["viewer", "operator", "admin"]    # access/roles.py ROLES

class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every default as ``(default: …)``, unless the help text states it itself."""

    def _get_help_string(self, action):
        if "(default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """User errors are one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _bool_pair(group, name, dest, default, help_text):
    group.add_argument(f"--{name}", dest=dest, action=argparse.BooleanOptionalAction,
                       default=default, help=help_text)


def add_database_options(parser):
    group = parser.add_argument_group("database options")
    group.add_argument("--dbms", choices=["sqlite", "postgresql", "mysql"], default=defaults.DBMS,
                       help="database management system")
    group.add_argument("--db-config", dest="db_config", default=defaults.DB_CONFIG,
                       help="database INI file")
    group.add_argument("--db-profile", dest="db_profile", default=None,
                       help="section of the DB INI file to use (default: the --dbms value)")
    return group


def add_notification_options(parser):
    notify = parser.add_argument_group("notification options")
    notify.add_argument("--smtp-config", dest="smtp_config", default=defaults.SMTP_CONFIG,
                        help="SMTP INI file")
    notify.add_argument("--smtp-profile", dest="smtp_profile", nargs="*", default=None,
                        help="profile(s) (INI sections) to notify")
    notify.add_argument("--alert-config", dest="alert_config", default=defaults.ALERT_CONFIG,
                        help="alert INI file (Apprise URLs and events per profile)")
    notify.add_argument("--alert-profile", dest="alert_profile", nargs="*", default=None,
                        help="alert profile(s) (INI sections) told of every job's runs, unless "
                             "a job names its own alert_profiles (default: none)")
    return notify


def add_data_dir_option(group):
    group.add_argument("-d", "--data-dir", dest="data_dir", default=defaults.DATA_DIR,
                       help="folder with the data files used as job arguments")


def add_job_timeout_option(group):
    group.add_argument("--job-timeout", dest="job_timeout", type=str,
                       default=str(defaults.JOB_TIMEOUT),
                       metavar="SECONDS",
                       help="longest a run may take before it ends in state timeout, unless "
                            "the job sets its own timeout; 0: no limit")


def add_table_options(group):
    group.add_argument("--executions-table", dest="executions_table",
                       default=defaults.EXECUTIONS_TABLE, metavar="EXECUTIONS_TABLE",
                       help="table of executions")
    group.add_argument("--jobs-table", dest="jobs_table", default=defaults.JOBS_TABLE,
                       metavar="JOBS_TABLE", help="table of jobs (APScheduler job store)")
    group.add_argument("--files-table", dest="files_table", default=defaults.FILES_TABLE,
                       metavar="FILES_TABLE", help="table of data files")
    group.add_argument("--logs-table", dest="logs_table", default=defaults.LOGS_TABLE,
                       metavar="LOGS_TABLE", help="table of the audit log")
    group.add_argument("--findings-table", dest="findings_table",
                       default=defaults.FINDINGS_TABLE, metavar="FINDINGS_TABLE",
                       help="table of findings (with FINDINGS_TABLE_history, _runs and _counts)")


def build_run_parser(sub):
    run = sub.add_parser("run", help="start the scheduler (and its authentication proxy)",
                         description="Start the scheduler server, behind the HTTPS "
                                     "authentication proxy unless --local.",
                         formatter_class=_Formatter)

    base = run.add_argument_group("base options")
    base.add_argument("--debug", action="store_true", default=False,
                      help="debug logging; the proxy binds 127.0.0.1")
    base.add_argument("-j", "--jobs", dest="jobs", action="append", default=None,
                      metavar="JOBS",
                      help=f"folder with job modules; repeatable (default: {DEFAULT_JOBS})")
    add_data_dir_option(base)
    base.add_argument("-l", "--local", action="store_true", default=False,
                      help="run without the proxy: only the scheduler, on 127.0.0.1:PORT+1")
    base.add_argument("-p", "--port", type=str, default=str(defaults.PORT),
                      help="the proxy listens on PORT, the scheduler on PORT+1 (127.0.0.1)")
    base.add_argument("--max-file-size", dest="max_file_size",
                      default=size_text(defaults.MAX_FILE_SIZE),
                      metavar="MAX_FILE_SIZE",
                      help="largest data file an upload may store: bytes, or a number with "
                           "KiB, MiB or GiB")

    add_notification_options(run)

    database = add_database_options(run)
    add_table_options(database)
    database.add_argument("--retention-days", dest="retention_days", type=str,
                          default=str(defaults.RETENTION_DAYS),
                          metavar="DAYS",
                          help="executions and audit log entries older than DAYS are pruned "
                               "in the background; 0 keeps everything")
    database.add_argument("--keep-runs", dest="keep_runs", type=str,
                          default=str(defaults.KEEP_RUNS),
                          metavar="K",
                          help="the last K executions of each job (with their reports) are "
                               "kept whatever their age")

    aps = run.add_argument_group("APScheduler options")
    _bool_pair(aps, "job-coalesce", "job_coalesce", defaults.JOB_COALESCE,
               "coalesce missed executions of a job")
    aps.add_argument("--job-max-instances", dest="job_max_instances", type=str,
                     default=str(defaults.JOB_MAX_INSTANCES),
                     metavar="JOB_MAX",
                     help="max concurrently executing instances of one job")
    aps.add_argument("--job-misfire", dest="job_misfire", type=str,
                     default=str(defaults.JOB_MISFIRE),
                     metavar="JOB_MISFIRE", help="misfire grace time, seconds")
    aps.add_argument("--threadpool-size", dest="threadpool_size", type=str,
                     default=str(defaults.THREADPOOL_SIZE),
                     metavar="TP_SIZE", help="job executor threads")
    aps.add_argument("--timezone", default=defaults.TIMEZONE,
                     help="IANA zone name of the scheduler")
    add_job_timeout_option(aps)

    tornado = run.add_argument_group("Tornado options")
    tornado.add_argument("--max-workers", dest="max_workers", type=str,
                         default=str(defaults.MAX_WORKERS),
                         metavar="TWORKERS", help="worker threads of the web server")

    mitm = run.add_argument_group("Mitmproxy options")
    mitm.add_argument("--certificate", default=None,
                      help="PEM file (key + certificate); None: mitmproxy's own certificate")
    mitm.add_argument("--htpasswd", default=None,
                      help="htpasswd file; None: .htpasswd is created with a random "
                           "administrator password")
    mitm.add_argument("--htgroups", default=None,
                      help="group file of the users' roles ('role: user1 user2'; roles viewer, "
                           "operator, admin) (default: .htgroups beside the htpasswd file)")

    cluster = run.add_argument_group("cluster options")
    cluster.add_argument("--executor", choices=["threads", "celery"], default=defaults.EXECUTOR,
                         help="where due jobs run: this process's threads, or Celery workers "
                              "(bots-scheduler worker)")
    add_broker_option(cluster, required=False)
    return run


def add_broker_option(group, required: bool):
    group.add_argument("--broker", default=None, required=required, metavar="URL",
                       help="Celery broker: redis://HOST:6379/0 or amqp://USER:PASSWORD@HOST:"
                            "5672// (with --executor celery)")


def build_worker_parser(sub):
    text = ("run jobs sent by schedulers started with --executor celery: a Celery worker "
            "loading the same job folders and writing to the same datastore")
    cmd = sub.add_parser("worker", help=text, description=text, formatter_class=_Formatter)
    base = cmd.add_argument_group("base options")
    base.add_argument("--debug", action="store_true", default=False, help="debug logging")
    base.add_argument("-j", "--jobs", dest="jobs", action="append", default=None,
                      metavar="JOBS",
                      help=f"folder with job modules; repeatable (default: {DEFAULT_JOBS})")
    add_data_dir_option(base)
    base.add_argument("--timezone", default=defaults.TIMEZONE,
                      help="IANA zone name of the schedulers")
    add_job_timeout_option(base)
    worker = cmd.add_argument_group("worker options")
    add_broker_option(worker, required=True)
    worker.add_argument("-c", "--concurrency", dest="concurrency", type=str,
                        default=str(defaults.WORKER_CONCURRENCY),
                        help="runs at the same time (threads)")
    worker.add_argument("-n", "--name", dest="name", default=None,
                        help="name shown in GET /api/v1/cluster (default: worker@HOSTNAME)")
    add_notification_options(cmd)
    database = add_database_options(cmd)
    add_table_options(database)
    return cmd


def build_destroy_parser(sub, name, help_text):
    cmd = sub.add_parser(name, help=help_text, description=help_text, formatter_class=_Formatter)
    cmd.add_argument("-y", "--yes", action="store_true", default=False,
                     help="do not ask for confirmation")
    add_data_dir_option(cmd)
    add_database_options(cmd)
    return cmd


def build_smtp_test_parser(sub):
    text = "send a test message through an SMTP profile"
    cmd = sub.add_parser("smtp-test", help=text, description=text, formatter_class=_Formatter)
    cmd.add_argument("profile", metavar="PROFILE", help="profile (INI section) to test")
    cmd.add_argument("--smtp-config", dest="smtp_config", default=defaults.SMTP_CONFIG,
                     help="SMTP INI file")
    return cmd


def build_alert_test_parser(sub):
    text = "send a test alert through an alert profile (every URL of it)"
    cmd = sub.add_parser("alert-test", help=text, description=text, formatter_class=_Formatter)
    cmd.add_argument("profile", metavar="PROFILE", help="profile (INI section) to test")
    cmd.add_argument("--alert-config", dest="alert_config", default=defaults.ALERT_CONFIG,
                     help="alert INI file")
    # where secret:NAME URLs are read from (only opened when the profile has some)
    add_data_dir_option(cmd)
    add_table_options(add_database_options(cmd))
    return cmd


def build_passwd_parser(sub):
    text = "add a user of the authentication proxy, or change a password (bcrypt)"
    cmd = sub.add_parser("passwd", help=text, description=text, formatter_class=_Formatter)
    cmd.add_argument("user", metavar="USER", help="user name")
    cmd.add_argument("--htpasswd", default=defaults.PASSWD_HTPASSWD,
                     help="htpasswd file to change; created with mode 0600 if missing")
    cmd.add_argument("--password-stdin", dest="password_stdin", action="store_true",
                     default=False,
                     help="read the password from the first line of standard input instead of "
                          "asking twice on the terminal")
    cmd.add_argument("--role", choices=ROLE_CHOICES, default=None,
                     help="also give the user this role in the group file (default: the role "
                          "is left as it is)")
    cmd.add_argument("--htgroups", default=None,
                     help="group file of the roles (default: .htgroups beside the htpasswd "
                          "file); created with mode 0600 if missing")
    return cmd


def build_transfer_parsers(sub):
    texts = {"export": "print every job definition as a JSON document (the import format)",
             "import": "add or update jobs from a document made by export (idempotent); "
                       "for a server that is not running: a running one takes documents at "
                       "POST /api/v1/import"}
    commands = {}
    for name, text in texts.items():
        cmd = sub.add_parser(name, help=text, description=text, formatter_class=_Formatter)
        cmd.add_argument("-j", "--jobs", dest="jobs", action="append", default=None,
                         metavar="JOBS",
                         help=f"folder with job modules; repeatable (default: {DEFAULT_JOBS})")
        add_data_dir_option(cmd)
        cmd.add_argument("--timezone", default=defaults.TIMEZONE,
                         help="zone of jobs whose definition names none")
        add_table_options(add_database_options(cmd))
        commands[name] = cmd
    commands["export"].add_argument("-o", "--output", default="-",
                                    help="file to write; - for standard output")
    commands["import"].add_argument("file", metavar="FILE",
                                    help="JSON document made by export; - for standard input")
    commands["import"].add_argument("--dry-run", dest="dry_run", action="store_true",
                                    default=False, help="only show what would change")


def build_secret_parser(sub):
    text = ("named secrets (API keys...) used by jobs as {\"secret\": \"NAME\"}: values are "
            "encrypted with conf/secret.key or $BOTS_SCHEDULER_SECRET_KEY")
    cmd = sub.add_parser("secret", help="store, list and delete named secrets",
                         description=text, formatter_class=_Formatter)
    actions = cmd.add_subparsers(dest="secret_command", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    texts = {"set": "store a secret, or replace its value; the value is read from standard "
                    "input (asked without echo on a terminal)",
             "list": "names, times and the jobs using each secret (never a value)",
             "delete": "delete a secret",
             "adopt": "move the plain values of secret-typed job arguments (API keys of the "
                      "built-in jobs...) into secrets, and make the jobs reference them"}
    for name, help_text in texts.items():
        action = actions.add_parser(name, help=help_text, description=help_text,
                                    formatter_class=_Formatter)
        if name in ("set", "delete"):
            action.add_argument("name", metavar="NAME",
                                help="secret name: 1-64 letters, digits, '_', '.' or '-'")
        if name == "delete":
            action.add_argument("--force", action="store_true", default=False,
                                help="delete even if jobs use it (their runs then fail)")
        if name == "adopt":
            action.add_argument("--dry-run", dest="dry_run", action="store_true",
                                default=False, help="only show what would change")
            action.add_argument("-j", "--jobs", dest="jobs", action="append", default=None,
                                metavar="JOBS", help=f"folder with job modules; repeatable "
                                                     f"(default: {DEFAULT_JOBS})")
        add_data_dir_option(action)
        add_table_options(add_database_options(action))
    return cmd


def build_token_parser(sub):
    text = ("API tokens for scripts: 'Authorization: Bearer TOKEN' through the proxy acts as "
            "user token:NAME with the token's role; stored hashed")
    cmd = sub.add_parser("token", help="create, list and revoke API tokens", description=text,
                         formatter_class=_Formatter)
    actions = cmd.add_subparsers(dest="token_command", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    texts = {"create": "create a token and print it once (the last line of the output is the "
                       "token alone)",
             "list": "name, role, created, expires and last used of each token (never the "
                     "token)",
             "revoke": "revoke a token: it is refused (401) from its next request"}
    for name, help_text in texts.items():
        action = actions.add_parser(name, help=help_text, description=help_text,
                                    formatter_class=_Formatter)
        if name != "list":
            action.add_argument("name", metavar="NAME",
                                help="token name: 1-64 letters, digits, '_', '.' or '-'")
        if name == "create":
            action.add_argument("--role", required=True, choices=ROLE_CHOICES,
                                help="what the token may do")
            action.add_argument("--expires-days", dest="expires_days", default=None,
                                metavar="N", help="the token stops working after N days "
                                                  "(default: never)")
        add_data_dir_option(action)
        add_table_options(add_database_options(action))
    return cmd


def build_migrate_parser(sub):
    text = ("copy the jobs, executions and audit log of an ndscheduler 0.3 or original Bots "
            "Scheduler datastore into the configured one (idempotent)")
    cmd = sub.add_parser("migrate", help=text, description=text, formatter_class=_Formatter)
    cmd.add_argument("source", metavar="SOURCE_URL",
                     help="the old datastore: sqlite:///PATH, postgresql://USER:PASSWORD@HOST/"
                          "DATABASE or mysql://USER:PASSWORD@HOST/DATABASE")
    cmd.add_argument("--dry-run", dest="dry_run", action="store_true", default=False,
                     help="print what would be copied; write nothing")
    old = cmd.add_argument_group("source options")
    old.add_argument("--from-jobs-table", dest="from_jobs_table", default=defaults.JOBS_TABLE,
                     metavar="TABLE", help="the old datastore's jobs table")
    old.add_argument("--from-executions-table", dest="from_executions_table",
                     default=defaults.EXECUTIONS_TABLE, metavar="TABLE",
                     help="its executions table (the original Bots Scheduler's default: "
                          "scheduler_executions)")
    old.add_argument("--from-logs-table", dest="from_logs_table",
                     default=defaults.LOGS_TABLE, metavar="TABLE",
                     help="its audit log table (the original Bots Scheduler's default: "
                          "scheduler_jobauditlogs)")
    base = cmd.add_argument_group("base options")
    base.add_argument("-j", "--jobs", dest="jobs", action="append", default=None,
                      metavar="JOBS",
                      help=f"folder with job modules, to tell which copied jobs have no class "
                           f"here; repeatable (default: {DEFAULT_JOBS})")
    add_data_dir_option(base)
    add_table_options(add_database_options(cmd))
    cmd.set_defaults(timezone=defaults.TIMEZONE)
    return cmd


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bots-scheduler",
                     description="Bots Scheduler: cron-style scheduling of security and OSINT "
                                 "bot jobs, with HTML reports in a web interface.",
                     formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    build_run_parser(sub)
    build_destroy_parser(sub, "clean", "remove the SQLite datastore and the data files")
    build_destroy_parser(sub, "reset", "clean, then restore conf/*.ini from the templates "
                                       "where missing")
    build_smtp_test_parser(sub)
    build_alert_test_parser(sub)
    build_passwd_parser(sub)
    build_transfer_parsers(sub)
    build_worker_parser(sub)
    build_secret_parser(sub)
    build_token_parser(sub)
    build_migrate_parser(sub)
    return parser
