"""What a lost race looks like, on every server we support.

CouchDB 3 answers a write carrying a stale _rev with 409. PouchDB Server 4.2.0 first runs
validate_doc_update against the *current* revision, so a stale order write usually comes back
403 instead ("History entries cannot be edited or removed ..."), because the current revision's
history is longer than the one the writer saw. act() turns such a 403 back into the Conflict it
really is, so callers re-read and decide again (and people see "reload", not a rule they never
broke)."""
from __future__ import annotations

from .couch import Conflict, CouchError, Forbidden


def act(orders, number_or_id: str, action: str, reason: str | None = None, changes: dict | None = None,
        rev: str | None = None) -> dict:
    """orders.act(...), with a 403 on a revision that moved on meanwhile raised as Conflict."""
    try:
        return orders.act(number_or_id, action, reason, changes, rev)
    except Forbidden as exc:
        if rev is not None and _moved(orders, number_or_id, rev):
            raise Conflict("the order changed meanwhile; read it again and retry") from exc
        raise


def _moved(orders, number_or_id: str, rev: str) -> bool:
    doc_id = number_or_id if number_or_id.startswith("order:") else f"order:{number_or_id}"
    try:
        return orders.db.get(doc_id)["_rev"] != rev
    except CouchError:
        return False
