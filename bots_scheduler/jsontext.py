"""JSON out of the API: orjson, and JSON text that is already stored passed through as it is.

The API's list calls answer thousands of rows; the standard library's encoder was the largest
single cost of them.  ``dumps`` writes non-string keys as strings, datetimes as ISO 8601 (naive ones
as UTC, "+00:00"), anything else unknown as ``str()``; it falls back to the standard library for
what orjson refuses (integers beyond 64 bits), and writes a ``RawJSON`` value (an execution's
stored job, say) without parsing it first.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time

import orjson

# datetimes as ISO 8601, naive ones taken as UTC (how the datastore keeps them): the same text
# as datastore.store.to_iso, written in C
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC


class RawJSON:
    """A JSON text that this program wrote itself, to be embedded in an answer unchanged."""

    __slots__ = ("text",)

    def __init__(self, text: str | bytes):
        self.text = text

    def value(self):
        return json.loads(self.text)

    def __repr__(self):
        return f"RawJSON({self.text!r})"


def _fast_default(obj):
    if isinstance(obj, RawJSON):
        return orjson.Fragment(obj.text)
    return str(obj)


def _slow_default(obj):
    if isinstance(obj, RawJSON):
        return obj.value()
    if isinstance(obj, datetime):
        return obj.isoformat() + ("+00:00" if obj.tzinfo is None else "")
    if isinstance(obj, (date, time)):
        return obj.isoformat()
    return str(obj)


def dumps(payload) -> bytes:
    """``payload`` as UTF-8 JSON bytes."""
    try:
        return orjson.dumps(payload, default=_fast_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        # e.g. an integer beyond 64 bits in a job's arguments: the standard library takes it
        return json.dumps(payload, default=_slow_default).encode()
