"""The one place where an error becomes an HTTP answer (CONTRACT §3): ``{"error": message}``.

Handlers do not catch the errors of the subsystems they call: a ``JobNotFound`` raised by the
scheduler reaches ``BaseHandler.write_error``, which asks ``http_answer`` for its status. The
kinds of ``bots_scheduler.errors`` choose it; ``ApiError`` is the web layer's own refusal (a
wrong method, a malformed query argument or body) and carries its status itself. Anything else
is a bug of ours: HTTP 500, and its traceback in the log.
"""
from __future__ import annotations

import logging

import tornado.web
from sqlalchemy.exc import DBAPIError, OperationalError

from bots_scheduler import errors

log = logging.getLogger("bots_scheduler.web")

# the most specific kinds first: DataFileNotFound is a DataFileError (InvalidInput) and NotFound
STATUS_OF_KIND: tuple[tuple[type[errors.BotsSchedulerError], int], ...] = (
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.TooLarge, 413),
    (errors.Forbidden, 403),
    (errors.Unavailable, 503),
    (errors.StorageFailed, 507),
    (errors.BotsSchedulerError, 400),     # InvalidInput and any error a user can cause
)


class ApiError(tornado.web.HTTPError):
    """A refusal of the HTTP layer itself, with its status (405 wrong method, 400 bad query)."""

    def __init__(self, status: int, message: str):
        super().__init__(status, reason=None)
        self.message = message


def _datastore_down(exc: BaseException) -> bool:
    """SQLAlchemy's own errors for a database that stopped answering while we run."""
    return isinstance(exc, OperationalError) or \
        (isinstance(exc, DBAPIError) and bool(exc.connection_invalidated))


def http_answer(exc: BaseException | None) -> tuple[int, str] | None:
    """(status, message) for an error a user can cause or meet; None for anything else."""
    if isinstance(exc, ApiError):
        return exc.status_code, exc.message
    if isinstance(exc, errors.Unavailable):
        return 503, f"the {exc.service} is unavailable; try again shortly"
    if isinstance(exc, errors.BotsSchedulerError):
        status = next(code for kind, code in STATUS_OF_KIND if isinstance(exc, kind))
        return status, exc.message
    if exc is not None and _datastore_down(exc):
        return 503, "the datastore is unavailable; try again shortly"
    if isinstance(exc, tornado.web.HTTPError) and exc.log_message:
        return exc.status_code, exc.log_message % exc.args if exc.args else exc.log_message
    return None


def log_error(exc: BaseException) -> bool:
    """Logs what the log needs of an expected error; False for a bug (the caller logs it with
    its traceback)."""
    if isinstance(exc, errors.Unavailable) or _datastore_down(exc):
        log.warning("%s unavailable: %s", getattr(exc, "service", "datastore"),
                    (str(exc).splitlines() or [type(exc).__name__])[0])
        return True
    return isinstance(exc, (errors.BotsSchedulerError, tornado.web.HTTPError))
