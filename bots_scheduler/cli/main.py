"""The launcher: ``bots-scheduler run|clean|reset|…``.

User errors end the command with one line on stderr and exit status 2; nothing starts before
every option has been checked. ``main`` is the one place where the errors of every subsystem
(``bots_scheduler.errors``) become that line.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
from pathlib import Path

from bots_scheduler.cli.definition import build_parser
from bots_scheduler.cli.migrate import command_migrate
from bots_scheduler.cli.transfer import command_export, command_import
from bots_scheduler.checks import data_directory
from bots_scheduler.errors import BotsSchedulerError, UsageError
from bots_scheduler.notifications.smtp_test import command_smtp_test
from bots_scheduler.settings import build_run_settings, database_settings

log = logging.getLogger("bots_scheduler")

TEMPLATES = ("db.ini", "smtp.ini", "alerts.ini")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BotsSchedulerError as exc:
        print(f"bots-scheduler {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


# -- run ---------------------------------------------------------------------------------------

def command_run(args) -> int:
    settings = build_run_settings(args)
    configure_logging(settings.debug)
    from bots_scheduler.service import ProxyFailed, Service   # Tornado/APScheduler only now
    try:
        return Service(settings).serve()
    except ProxyFailed:
        return 1


def command_worker(args) -> int:
    from bots_scheduler.settings import build_worker_settings
    settings = build_worker_settings(args)
    configure_logging(settings.debug)
    from bots_scheduler.worker import WorkerService   # Celery only when running
    return WorkerService(settings).serve()


def configure_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not debug:
        for noisy in ("apscheduler", "tornado.access", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    # secret values a run resolved never reach a log line or this process's output
    from bots_scheduler.secrets.redaction import install
    install()


# -- clean / reset -----------------------------------------------------------------------------

def confirm(args, what: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"this would delete {what}; confirm with -y/--yes")
    answer = input(f"This deletes {what}. Continue? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def command_clean(args, verb: str = "clean") -> int:
    data_dir = data_directory(args.data_dir)
    database = database_settings(args, data_dir)
    what = (f"the {database.dbms} datastore ({database.describe()}) and the data files in "
            f"{data_dir}")
    if not confirm(args, what):
        print(f"{verb}: nothing deleted")
        return 1
    if database.dbms == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{database.sqlite_path}{suffix}").unlink(missing_ok=True)
    else:
        drop_server_tables(database)
    if data_dir.is_dir():
        shutil.rmtree(data_dir)
    print(f"{verb}: deleted {what}")
    return 0


def drop_server_tables(database) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from bots_scheduler.datastore.store import Datastore
    store = Datastore(database, pool_size=1)
    try:
        store.check()
        from sqlalchemy import MetaData, Table
        jobs = Table(database.jobs_table, MetaData())
        jobs.drop(store.engine, checkfirst=True)
        store.tables.metadata.drop_all(store.engine, checkfirst=True)
        from bots_scheduler.cluster.tables import make_cluster_tables
        make_cluster_tables(database.jobs_table).metadata.drop_all(store.engine, checkfirst=True)
        from bots_scheduler.access.tokens import make_tokens_table
        from bots_scheduler.secrets.store import make_secrets_table
        for table in (make_secrets_table(database.jobs_table),
                      make_tokens_table(database.jobs_table)):
            table.drop(store.engine, checkfirst=True)
        from bots_scheduler.findings.tables import make_finding_tables
        make_finding_tables(database.findings_table).metadata.drop_all(store.engine,
                                                                       checkfirst=True)
    except SQLAlchemyError as exc:
        raise UsageError(f"cannot drop the tables: {str(exc).splitlines()[0]}") from None
    finally:
        store.dispose()


def command_reset(args) -> int:
    status = command_clean(args, verb="reset")
    if status:
        return status
    conf = Path(args.db_config).parent
    conf.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATES:
        target = conf / name
        if target.exists():
            print(f"reset: kept {target} (already there)")
            continue
        template = conf / f"{name}.template"
        if not template.is_file():
            template = Path(__file__).resolve().parent.parent / "conf" / f"{name}.template"
            if not (conf / f"{name}.template").exists():
                shutil.copyfile(template, conf / f"{name}.template")
        shutil.copyfile(template, target)
        os.chmod(target, 0o600)
        print(f"reset: restored {target} from {template.name}")
    from bots_scheduler.datafiles.samples import restore_samples
    for name in restore_samples(data_directory(args.data_dir)):
        print(f"reset: restored the sample list {name}")
    return 0


def command_passwd(args) -> int:
    from bots_scheduler.proxy.passwd import command_passwd as change_password
    return change_password(args)


def command_alert_test(args) -> int:
    from bots_scheduler.alerts.test import command_alert_test as send_test
    return send_test(args, open_secrets)


@contextlib.contextmanager
def open_secrets(args):
    """The secrets lookup (name -> value) of the datastore named by the database options."""
    from bots_scheduler.datastore.store import Datastore
    from bots_scheduler.secrets.store import SecretStore
    database = database_settings(args, data_directory(args.data_dir))
    datastore = Datastore(database, pool_size=1)
    try:
        datastore.check()
        secrets = SecretStore(datastore.engine, database.jobs_table)
        secrets.check_key()
        yield secrets.value
    finally:
        datastore.dispose()


def command_secret(args) -> int:
    from bots_scheduler.cli.secrets import command_secret as secret
    return secret(args)


def command_token(args) -> int:
    from bots_scheduler.cli.tokens import command_token as token
    return token(args)


COMMANDS = {"run": command_run, "clean": command_clean, "reset": command_reset,
            "smtp-test": command_smtp_test, "alert-test": command_alert_test,
            "passwd": command_passwd, "export": command_export, "import": command_import,
            "worker": command_worker, "secret": command_secret, "token": command_token,
            "migrate": command_migrate}


if __name__ == "__main__":
    sys.exit(main())
