"""Human order numbers (SO-000123) from a counter document, hi/lo style: a process claims a block
of numbers with one write and hands them out locally, so each order costs one write, not two.
A claim that loses the race (409, or a revision that did not settle on a cluster: oms/store/cas.py)
reads again and retries; blocks never overlap. The allocator keeps the counter revision it wrote
last and writes on it directly next time (an import claims a block per batch): one request
instead of a read and a write, while no other process claimed."""
from __future__ import annotations

import random
import threading
import time

from . import cas
from .couch import Conflict

COUNTER_ID = "counter:order"


class NumberAllocator:
    # A process that used up its last block within BUSY_SECONDS claims one twice as big next
    # time, up to MOST_BLOCK (and back to `block` when calm): under steady load a counter write
    # every few hundred orders, not every 20, and never one in the middle of each wave of orders.
    # The cost is as hi/lo's always was: a restart leaves the rest of a block unused (a gap).
    BUSY_SECONDS = 2.0
    MOST_BLOCK = 320

    def __init__(self, block: int = 20, prefix: str = "SO-", clock=time.monotonic, grow: bool = True,
                 counter_id: str = COUNTER_ID):
        """grow=False: always `block` numbers at a time (block=1: one counter write per order and
        no gaps, for a series few people number from, as a partner's or the invoices')."""
        self.block, self.prefix, self.clock, self.grow, self.counter_id = block, prefix, clock, grow, counter_id
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
                busy = self.grow and self._claimed_at is not None and now - self._claimed_at < self.BUSY_SECONDS
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
        for attempt in range(50):
            base = self._written.pop(where, None) or self._read(db, self.counter_id)
            doc = dict(base, value=base["value"] + size)
            try:
                # A block counts once its counter revision is settled (oms/store/cas.py): on a cluster two
                # claims decided on the same revision can both be taken by some copies.
                self._written[where] = cas.save(db, doc)
            except Conflict:
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2 ** min(attempt, 6))))
                continue
            return base["value"] + 1, base["value"] + 1 + size
        raise Conflict("could not claim numbers: the counter is too busy; try again")

    @staticmethod
    def _read(db, counter_id: str = COUNTER_ID) -> dict:
        """The counter as it stands; when it is gone (deleted), a new one from the highest value any
        of its revisions held: validate_doc_update makes a deletion carry the value it deletes."""
        current = db.get_or_none(counter_id)
        if current is not None:
            return current
        floor = max((leaf.get("value", 0) for leaf in db.leaves(counter_id)), default=0)
        return {"_id": counter_id, "type": "counter", "value": floor}
