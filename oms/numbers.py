"""Human order numbers (SO-000123) from a counter document, hi/lo style: a process claims a block
of numbers with one write and hands them out locally, so each order costs one write, not two.
A claim that loses the race (409) reads again and retries; blocks never overlap. The allocator
keeps the counter revision it wrote last and writes on it directly next time (an import claims a
block per batch): one request instead of a read and a write, while no other process claimed."""
from __future__ import annotations

import threading
import time

from .couch import Conflict, CouchError, Forbidden

COUNTER_ID = "counter:order"


class NumberAllocator:
    # A process that used up its last block within BUSY_SECONDS claims one twice as big next
    # time, up to MOST_BLOCK (and back to `block` when calm): under steady load a counter write
    # every few hundred orders, not every 20, and never one in the middle of each wave of orders.
    # The cost is as hi/lo's always was: a restart leaves the rest of a block unused (a gap).
    BUSY_SECONDS = 2.0
    MOST_BLOCK = 320

    def __init__(self, block: int = 20, prefix: str = "SO-", clock=time.monotonic):
        self.block, self.prefix, self.clock = block, prefix, clock
        self._size = block
        self._claimed_at: float | None = None
        self._next = self._end = 0
        self._lock = threading.Lock()
        self._written: dict[tuple, dict] = {}   # (server, database) -> the counter as this allocator wrote it

    def next(self, db) -> str:
        """`db` is the acting person's Database: the counter write passes validate_doc_update."""
        with self._lock:
            if self._next >= self._end:
                now = self.clock()
                busy = self._claimed_at is not None and now - self._claimed_at < self.BUSY_SECONDS
                self._size = min(self._size * 2, max(self.MOST_BLOCK, self.block)) if busy else self.block
                self._next, self._end = self._claim(db, self._size)
                self._claimed_at = now
            n = self._next
            self._next += 1
        return f"{self.prefix}{n:06d}"

    def reserve(self, db, n: int) -> list[str]:
        """`n` numbers in one counter write (an import batch), outside this process's block."""
        if n <= 0:
            return []
        start, end = self._claim(db, n)
        return [f"{self.prefix}{i:06d}" for i in range(start, end)]

    def _claim(self, db, size: int | None = None) -> tuple[int, int]:
        size = size or self.block
        where = (getattr(getattr(db, "server", None), "url", None), db.name)
        for _ in range(50):
            base = self._written.pop(where, None)
            if base is None:
                base = db.get_or_none(COUNTER_ID) or {"_id": COUNTER_ID, "type": "counter", "value": 0}
            doc = dict(base, value=base["value"] + size)
            [row] = db.bulk([doc])   # the row's error as it is: a refusal is told from a race below
            if row.get("ok"):
                self._written[where] = dict(doc, _rev=row["rev"])
                return base["value"] + 1, base["value"] + 1 + size
            if row.get("error") == "conflict":
                continue
            if row.get("error") == "forbidden":
                # PouchDB Server runs validate_doc_update against the current revision before it
                # notices our stale _rev, so a lost race can come back as 403 "only moves forward"
                # instead of 409: if the counter moved since our base, it was a race; retry on it.
                current = db.get_or_none(COUNTER_ID)
                if current is not None and current.get("_rev") != base.get("_rev"):
                    self._written[where] = current
                    continue
                raise Forbidden(row.get("reason") or "refused")
            raise CouchError(row.get("reason") or row.get("error") or "the counter write failed")
        raise Conflict("could not claim order numbers: the counter is too busy; try again")
