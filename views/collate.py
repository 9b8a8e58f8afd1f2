"""Python ordering of view keys, as the servers order them.

The reader merges a person's key ranges (one per principal) in Python, so Python must order keys
as the server does. CouchDB orders by JSON type (null < false < true < numbers < strings < arrays
< objects), arrays element by element (a prefix first). Strings are where servers differ: CouchDB 3
uses ICU collation ("a" < "A" < "b"), PouchDB Server plain code points ("A" < "a"). Our views
therefore put free text into keys only through sortable() (a-z, 0-9), on which the two agree, and
otherwise fixed codes (SO numbers, ISO dates, stage indexes, role names)."""
from __future__ import annotations

import re

_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def sortable(text) -> str:
    """The same as sortable() in couch_design/oms/views_lib/order_row.js."""
    return _NOT_ALNUM.sub("", str("" if text is None else text).lower())


def couch_key(value):
    """A Python sort key for a JSON value in CouchDB's view order."""
    if value is None:
        return (0,)
    if value is False:
        return (1,)
    if value is True:
        return (2,)
    if isinstance(value, (int, float)):
        return (3, value)
    if isinstance(value, str):
        return (4, value)
    if isinstance(value, (list, tuple)):
        return (5, tuple(couch_key(v) for v in value))
    if isinstance(value, dict):
        return (6, tuple((k, couch_key(v)) for k, v in value.items()))
    raise TypeError(f"not a JSON value: {value!r}")
