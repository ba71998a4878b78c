"""``bots-scheduler export`` and ``bots-scheduler import``: job definitions in and out of the
datastore, without starting the server (bots_scheduler/transfer.py has the format)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from bots_scheduler.cli.offline import offline_app
from bots_scheduler.errors import UsageError
from bots_scheduler.settings import build_offline_settings


def offline_scheduler(args):
    """The job store of the configured datastore, with a scheduler that never fires."""
    return offline_app(build_offline_settings(args))


def command_export(args) -> int:
    from bots_scheduler.transfer import export_jobs
    with offline_scheduler(args) as app:
        document = export_jobs(app.scheduler)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output: cannot write {args.output}: {exc.strerror}") from None
        print(f"export: {len(document['jobs'])} job(s) written to {args.output}",
              file=sys.stderr)
    return 0


def command_import(args) -> int:
    from bots_scheduler.transfer import TransferError, describe, import_jobs
    document = read_json(args.file)
    with offline_scheduler(args) as app:
        try:
            result = import_jobs(document, app.scheduler, app.local_user, args.dry_run)
        except TransferError as exc:   # on the command line, the message names the file
            raise TransferError(f"{args.file}: {exc}") from None
    print(describe(result))
    return 0


def read_json(name: str):
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{name} is not valid JSON: {exc}") from None
