"""``bots-scheduler migrate SOURCE_URL``: bring an ndscheduler 0.3 / original Bots Scheduler
datastore over (bots_scheduler/legacy/migrate.py does the copy)."""
from __future__ import annotations

from bots_scheduler.checks import table_name
from bots_scheduler.errors import UsageError
from bots_scheduler.settings import build_offline_settings


def command_migrate(args) -> int:
    from bots_scheduler.cli.transfer import offline_scheduler
    from bots_scheduler.jobs.loader import JobRegistry
    from bots_scheduler.legacy import migrate
    from bots_scheduler.legacy.source import Source, SourceTables

    names = SourceTables(
        jobs=table_name("--from-jobs-table", args.from_jobs_table),
        executions=table_name("--from-executions-table", args.from_executions_table),
        logs=table_name("--from-logs-table", args.from_logs_table))
    settings = build_offline_settings(args)
    database = settings.database
    source = Source(args.source, names)
    source.check()          # SourceError: one line, exit 2
    try:
        refuse_same_tables(source, database, names)
        target = f"the {database.dbms} datastore {database.describe()}"
        if args.dry_run:
            reader = migrate.read_only_reader(database)
            registry = JobRegistry.discover(settings.jobs_dirs)
            try:
                result = migrate.Migration(source, reader, None, registry, target).run()
            finally:
                if reader.engine is not None:
                    reader.engine.dispose()
        else:
            with offline_scheduler(args) as app:
                reader = migrate.TargetReader(app.datastore.engine, app.datastore.tables,
                                              database.jobs_table)
                writer = migrate.TargetWriter(app.scheduler.aps, app.executions)
                result = migrate.Migration(source, reader, writer, app.registry, target).run()
    finally:
        source.dispose()
    print(migrate.describe(result))
    return 0


def refuse_same_tables(source, database, names) -> None:
    """Our tables are named as ndscheduler's by default: the old datastore cannot be its own
    target (the tables' columns differ)."""
    if database.dbms == "sqlite":
        target = database.sqlite_path
        if target is None or not target.exists() or source.url.get_backend_name() != "sqlite":
            return
        if source.url.database.removeprefix("file:").split("?")[0] != str(target.resolve()):
            return
    elif _place(source.url) != _place(database.url):
        return
    clash = {names.jobs, names.executions, names.logs} & {
        database.jobs_table, database.executions_table, database.logs_table,
        database.files_table}
    if clash:
        raise UsageError(f"the old datastore is the configured one and its table(s) "
                         f"{', '.join(sorted(clash))} would be overwritten: give the new tables "
                         f"other names (--jobs-table, --executions-table, --logs-table), or "
                         f"migrate into another database")


def _place(url) -> tuple:
    default_port = {"postgresql": 5432, "mysql": 3306}.get(url.get_backend_name())
    return (url.get_backend_name(), url.host, url.port or default_port, url.database)
