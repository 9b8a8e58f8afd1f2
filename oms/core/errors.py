"""Domain errors the web layer maps to HTTP: each carries a sentence a person can act on. The
database's refusals are among them (the store adapter, oms/store/couch.py, raises them for
CouchDB's answers: 409 -> Conflict, 403 -> Forbidden ...), so every layer can name them without
knowing the adapter."""
from __future__ import annotations


class CouchError(Exception):
    status = 500

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        if status:
            self.status = status


class BadRequest(CouchError):
    status = 400


class Unauthorized(CouchError):
    status = 401


class Forbidden(CouchError):
    """validate_doc_update (or _security) refused: `reason` is the rulebook's sentence."""
    status = 403


class NotFound(CouchError):
    status = 404


class Conflict(CouchError):
    """Someone else wrote first (document update conflict): re-read and decide again."""
    status = 409


class Unavailable(CouchError):
    """The database server is down or unreachable."""
    status = 503



class InvalidInput(Exception):
    """Bad input from a person or a client (HTTP 400). `fields`: every problem found, by the
    input field it belongs to ("customer", "lines[1].qty"), so that a form shows each beside its
    field, all at once; `reason` is the first of them, or the only problem."""

    def __init__(self, reason: str, fields: dict[str, str] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.fields = dict(fields or {})
