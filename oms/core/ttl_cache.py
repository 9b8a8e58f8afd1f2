"""A small thread-safe cache whose entries expire after `ttl` seconds: for what is read on every
request but changes rarely (verified API credentials, customer profiles at order entry)."""
from __future__ import annotations

import threading
import time


class TTLCache:
    def __init__(self, ttl: float, max_items: int = 10_000, clock=time.monotonic):
        self.ttl, self.max_items, self.clock = ttl, max_items, clock
        self._data: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._data.get(key)
            if hit and hit[0] > self.clock():
                return hit[1]
            self._data.pop(key, None)
            return None

    def put(self, key, value) -> None:
        with self._lock:
            if len(self._data) >= self.max_items:
                self._data.clear()   # simpler than LRU, and a refill costs one read per key
            self._data[key] = (self.clock() + self.ttl, value)

    def discard(self, key) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
