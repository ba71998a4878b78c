"""The configured datastore without the server, for the commands that work offline (export,
import, migrate, secret): its tables ready and a scheduler that never fires."""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def offline_app(settings, *, need_key: bool = False):
    """``need_key``: the secret key is checked before anything is written (KeyUnavailable,
    DatastoreUnavailable: one line and exit 2, cli/main.py), so that no value is ever stored
    under another key than the others."""
    from bots_scheduler.app import Application
    app = Application(settings)
    try:
        app.datastore.check()
        if need_key:
            app.secrets.check_key()
        app.datastore.create_tables()
        app.secrets.create_table()      # job arguments may reference secrets
    except BaseException:
        app.datastore.dispose()
        raise
    app.scheduler.start(paused=True)
    try:
        yield app
    finally:
        app.scheduler.shutdown()
        app.datastore.dispose()
