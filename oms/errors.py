"""Domain errors the web layer maps to HTTP: each carries a sentence a person can act on."""
from .couch import Conflict, CouchError, Forbidden, NotFound, Unavailable  # noqa: F401


class InvalidInput(Exception):
    """Bad input from a person or a client (HTTP 400)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
