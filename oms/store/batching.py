"""Work that threads of one process ask for at the same moment, done together in one run.

A caller joins the open batch; when no run is in flight, one of the waiting callers takes the
open batch and runs it, and the others wait for their own result. So a lone call runs at once
(no timer, no added latency), and while a run is in flight the next calls gather; a batcher with
a `linger` may also wait a moment for callers it has reason to expect (Batcher). Used by group
commit (one `_bulk_docs` for concurrent writes) and by placement (the hand-offs of orders placed
together decided in one pass: oms/fulfilment/placement.py)."""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Generic, Hashable, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


class _Batch:
    __slots__ = ("items", "keys", "results", "error", "taken", "done")

    def __init__(self):
        self.items: list = []
        self.keys: set = set()
        self.results: list | None = None
        self.error: BaseException | None = None
        self.taken = self.done = False   # a caller runs it (or lingers to) / it ran


class Batcher(Generic[In, Out]):
    """`run(items)` returns one outcome per item, in order: a result, or an exception instance
    that only that item's caller raises. An exception from `run` itself fails the whole batch.
    `key(item)`: items with the same key never share a batch (one write per document id).
    `linger`: seconds a batch may wait, before it runs, for as many callers as were inside at once
    since the last run began (PostgreSQL's commit_delay with commit_siblings, in spirit). Busy
    callers otherwise settle into two waves, one running while the other gathers; a batch that
    waits for the wave on its way back serves both in one run. It stops waiting as soon as they
    are all there; a lone caller never waits."""

    def __init__(self, run: Callable[[list[In]], list], max_items: int = 100,
                 key: Callable[[In], Hashable] | None = None, linger: float = 0.0):
        self._run, self.max_items, self._key, self.linger = run, max_items, key, linger
        self._inside = self._peak = 0   # callers in submit() now / at most since the last run began
        self._cond = threading.Condition()
        self._queue: deque[_Batch] = deque()   # batches waiting to run, oldest first
        self._running = False
        self.runs = self.items = 0   # for the bench: items per run

    def submit(self, item: In) -> Out:
        """Run `item` with its batch; returns its result, or raises its (or the batch's) error."""
        key = self._key(item) if self._key else None
        with self._cond:
            last = self._queue[-1] if self._queue else None
            if last is None or len(last.items) >= self.max_items or (key is not None and key in last.keys):
                self._queue.append(_Batch())
            batch = self._queue[-1]
            index = len(batch.items)
            batch.items.append(item)
            if key is not None:
                batch.keys.add(key)
            self._inside += 1
            self._peak = max(self._peak, self._inside)
            if self.linger:
                self._cond.notify_all()   # a lingering leader counts its batch again
            while batch.taken and not batch.done or not batch.taken and (
                    self._running or self._queue[0] is not batch):
                self._cond.wait()
            leader = not batch.taken
            if leader:   # this caller runs the batch
                batch.taken = True
                deadline = time.monotonic() + self.linger
                while len(batch.items) < min(self._peak, self.max_items) and time.monotonic() < deadline:
                    self._cond.wait(deadline - time.monotonic())
                self._running = True
                self._queue.popleft()
                self._peak = self._inside
        try:
            return self._outcome(batch, index, leader)
        finally:
            with self._cond:
                self._inside -= 1

    def _outcome(self, batch: _Batch, index: int, leader: bool) -> Out:
        if leader:
            try:
                batch.results = self._run(batch.items)
            except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets the error
                batch.error = exc
            with self._cond:
                batch.done, self._running = True, False
                self.runs += 1
                self.items += len(batch.items)
                self._cond.notify_all()
        if batch.error is not None:
            raise batch.error
        outcome = batch.results[index]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome
