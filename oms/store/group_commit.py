"""Group commit: document writes that one identity makes at the same moment (concurrent requests
of one process) travel together in one `_bulk_docs` request instead of one PUT each.

Writers gather as oms/store/batching.py says: a lone write goes out at once (no timer, no added
latency), and while a flush is in flight the next writes gather. Each document keeps its own
outcome: `_bulk_docs` is not atomic on CouchDB 3 (nor here), and a refused or conflicting
document fails only its own writer, with the same error a PUT would have given (403 with the
validate_doc_update sentence, 409 Conflict).

One _bulk_docs of several documents costs the server far less than as many PUTs, because its
per-request work (auth, JSON, a leveldb batch) is shared (bench/README.md has the measures)."""
from __future__ import annotations

from typing import Callable

from .batching import Batcher


class GroupCommit(Batcher[dict, dict]):
    """One per (server, identity, database). `bulk(docs)` returns one result row per document
    ({id, rev} or {id, error, reason}), in any order; `single(doc)` writes one document (a PUT),
    used when a batch holds one document, so a lone write behaves exactly as before."""

    def __init__(self, bulk: Callable[[list[dict]], list[dict]], single: Callable[[dict], dict],
                 max_docs: int = 100):
        def flush(docs: list[dict]) -> list[dict]:
            rows = [single(docs[0])] if len(docs) == 1 else bulk(docs)
            # By id, not by position: PouchDB Server answers a validated _bulk_docs with the
            # refused documents first (CouchDB 3 keeps the request's order).
            by_id = {row["id"]: row for row in rows}
            return [by_id.get(d["_id"]) or {"id": d["_id"], "error": "unknown_error",
                                            "reason": "the server gave no result for this document"}
                    for d in docs]
        # One document id at most once per request.
        super().__init__(flush, max_docs, key=lambda doc: doc["_id"])

    def save(self, doc: dict) -> dict:
        """Write `doc` (with its batch); returns its result row, raises what its flush raised."""
        return self.submit(doc)

    @property
    def flushes(self) -> int:   # for the bench: documents per flush
        return self.runs

    @property
    def documents(self) -> int:
        return self.items
