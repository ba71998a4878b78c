"""``bots-scheduler token create|list|revoke``: API tokens in the datastore, without the
server (a running server sees a change at the token's next request)."""
from __future__ import annotations

from bots_scheduler.checks import data_directory, whole_number
from bots_scheduler.settings import database_settings


def command_token(args) -> int:
    from bots_scheduler.access.tokens import TokenStore
    from bots_scheduler.datastore.store import Datastore, to_iso
    database = database_settings(args, data_directory(args.data_dir))
    days = None
    if getattr(args, "expires_days", None) is not None:
        days = whole_number("--expires-days", args.expires_days, 1)
    datastore = Datastore(database, pool_size=1)
    store = TokenStore(datastore.engine, database.jobs_table)
    try:
        datastore.check()
        store.create_table()
        if args.token_command == "create":
            from bots_scheduler.app import _local_user
            token, info = store.create(args.name, args.role, days, _local_user())
            expires = f"expires {to_iso(info.expires_time)}" if info.expires_time \
                else "never expires"
            print(f"token: created {info.name!r} with the {info.role} role ({expires}); it is "
                  f"shown this once: use it as 'Authorization: Bearer TOKEN'")
            print(token)
        elif args.token_command == "revoke":
            store.revoke(args.name)
            print(f"token: revoked {args.name!r}")
        else:
            rows = [(i.name, i.role, to_iso(i.created_time), to_iso(i.expires_time) or "never",
                     to_iso(i.last_used_time) or "never") for i in store.list()]
            if not rows:
                print("no tokens")
                return 0
            header = ("NAME", "ROLE", "CREATED", "EXPIRES", "LAST USED")
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            for row in [header, *rows]:
                print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    finally:
        datastore.dispose()
    return 0
