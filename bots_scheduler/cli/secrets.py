"""``bots-scheduler secret set|list|delete|adopt``: the secret store without the server."""
from __future__ import annotations

import getpass
import sys

from bots_scheduler import defaults
from bots_scheduler.cli.offline import offline_app
from bots_scheduler.checks import data_directory, jobs_folders
from bots_scheduler.errors import UsageError
from bots_scheduler.settings import Settings, database_settings


def secret_app(args):
    """The datastore's secrets and jobs (a scheduler that never fires), the key checked."""
    data_dir = data_directory(args.data_dir)
    jobs = jobs_folders(getattr(args, "jobs", None), defaults.JOBS_DIRS)
    return offline_app(Settings(database=database_settings(args, data_dir), data_dir=data_dir,
                                jobs_dirs=jobs, local=True), need_key=True)


def read_value() -> str:
    if sys.stdin is None:
        raise UsageError("no standard input to read the value from")
    if sys.stdin.isatty():
        value = getpass.getpass("Value: ")
    else:
        value = sys.stdin.read()
        # one final line end is the shell's (echo, a file), not the value's
        value = value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") \
            else value
    if not value:
        raise UsageError("the value is empty; nothing stored")
    return value


def command_secret(args) -> int:
    from bots_scheduler.secrets.store import check_name
    action = args.secret_command
    if action in ("set", "delete"):
        check_name(args.name)
    value = read_value() if action == "set" else None
    with secret_app(args) as app:
        return ACTIONS[action](args, app, value)


def _set(args, app, value) -> int:
    created = app.secrets.set(args.name, value, app.local_user)
    print(f"secret: {'stored' if created else 'replaced the value of'} {args.name!r} "
          f"(key: {app.secrets.keys.describe()})")
    return 0


def _list(args, app, _value) -> int:
    from bots_scheduler.datastore.store import to_iso
    from bots_scheduler.secrets.arguments import jobs_using
    used = jobs_using(app.scheduler.list_jobs())
    rows = [(info.name, to_iso(info.created_time), to_iso(info.updated_time),
             ", ".join(sorted(used.get(info.name, []))) or "-") for info in app.secrets.list()]
    if not rows:
        print("no secrets stored")
        return 0
    header = ("NAME", "CREATED", "UPDATED", "USED BY")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row[:3]))
              + "  " + row[3])
    return 0


def _delete(args, app, _value) -> int:
    from bots_scheduler.secrets.arguments import jobs_using
    users = jobs_using(app.scheduler.list_jobs()).get(args.name, [])
    if users and not args.force:
        raise UsageError(f"secret {args.name!r} is used by job(s) {', '.join(sorted(users))}; "
                         f"change them first, or give --force (their runs will then fail)")
    app.secrets.delete(args.name)
    print(f"secret: deleted {args.name!r}")
    return 0


def _adopt(args, app, _value) -> int:
    from bots_scheduler.secrets.adopt import adopt
    done = adopt(app.scheduler, app.secrets, app.local_user, dry_run=args.dry_run)
    verb = "would" if args.dry_run else "now"
    for item in done:
        made = " (new secret)" if item.new_secret else ""
        print(f"job {item.job_id} ({item.job_name}): argument {item.position + 1} {verb} "
              f"references secret {item.secret!r}{made}")
    jobs = len({item.job_id for item in done})
    print(f"secret adopt: {len(done)} plain value(s) in {jobs} job(s)"
          + (" would be moved (dry run: nothing changed)" if args.dry_run else " moved"))
    return 0


ACTIONS = {"set": _set, "list": _list, "delete": _delete, "adopt": _adopt}
