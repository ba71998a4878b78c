"""The kinds of error a user can cause or meet, at the bottom of the package.

This module imports nothing of Bots Scheduler, so that any module may import it (the mitmproxy
child process too, without loading the rest). Each subsystem raises its own errors, subclasses
of one kind below declared next to the code that raises them (``JobNotFound(NotFound)``,
``DatastoreUnavailable(Unavailable)``...), and each edge translates the kinds in one place:

- the command line, ``cli/main.py``: one line on stderr, exit status 2;
- the REST API, ``web/errors.py``: the kind chooses the HTTP status, the message becomes the
  JSON answer ``{"error": message}``.

An error that is not a ``BotsSchedulerError`` is ours (a bug): it keeps its traceback in the log
and is an HTTP 500.
"""
from __future__ import annotations


class BotsSchedulerError(Exception):
    """An error a user can cause or meet; ``str()`` is the one-line message shown to them."""

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(BotsSchedulerError, ValueError):
    """A value given by the user is refused (HTTP 400)."""


class UsageError(InvalidInput):
    """A bad command-line option or configuration file, found before anything starts."""


class NotFound(BotsSchedulerError, LookupError):
    """What the user names does not exist (HTTP 404)."""


class Conflict(BotsSchedulerError):
    """The request is valid but clashes with the current state (HTTP 409)."""


class TooLarge(InvalidInput):
    """A body, file or value exceeds its limit (HTTP 413)."""


class Forbidden(BotsSchedulerError):
    """The caller may not do this (HTTP 403)."""


class Unavailable(BotsSchedulerError):
    """A service we depend on (the datastore, the broker) does not answer (HTTP 503).

    ``str()`` is the detailed line for the command line and the log; ``service`` names it for
    HTTP clients, who are not told addresses.
    """

    service = "service"


class StorageFailed(BotsSchedulerError):
    """Our own storage refused a write, e.g. the data folder is full or read-only (HTTP 507)."""
