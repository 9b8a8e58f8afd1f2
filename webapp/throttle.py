"""Sign-in throttling that slows a guesser without letting a stranger lock the owner out.

Failures count per (name, address) pair: after FREE failures that pair waits, 2 s, 4 s, 8 s ...
up to MAX_WAIT, before it may try again; a success clears it. A stranger who fails a name from
their address only slows their own pair: the owner signing in from their own address (or any
other) is not held up. One address that fails many names (a spray) waits as a whole once it
used ADDRESS_FREE failures. Nothing is ever locked for good; failures older than WINDOW no
longer count.

Counters live in the worker process (as Flask-Limiter's memory store does): with N workers a
guesser gets at most N times the allowance."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

FREE = 3              # failures of one (name, address) pair before it waits
ADDRESS_FREE = 30     # failures from one address, whatever the names, before it waits
MAX_WAIT = 300.0      # seconds at most between tries
WINDOW = 900.0        # seconds in which failures count


class Throttle:
    def __init__(self, max_failures=FREE, window=WINDOW, max_wait=MAX_WAIT, address_failures=ADDRESS_FREE,
                 clock=time.monotonic):
        self.free, self.window, self.max_wait, self.clock = max_failures, window, max_wait, clock
        self.address_free = address_failures
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    @staticmethod
    def keys(name: str, address: str | None) -> list[str]:
        """The pair, then the address."""
        return [f"pair:{(name or '').lower()}\n{address or '?'}", f"addr:{address or '?'}"]

    def retry_after(self, keys) -> int:
        """Seconds until these keys may try again (0: go ahead)."""
        now = self.clock()
        with self._lock:
            wait = max(self._wait(k, now) for k in keys)
        return int(wait + 0.999) if wait > 0 else 0

    def _wait(self, key: str, now: float) -> float:
        q = self._failures.get(key)
        if not q:
            return 0.0
        while q and q[0] < now - self.window:
            q.popleft()
        free = self.address_free if key.startswith("addr:") else self.free
        over = len(q) - free
        if over < 0:
            return 0.0
        return max(0.0, q[-1] + min(self.max_wait, 2.0 ** (over + 1)) - now)

    def failed(self, keys) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) > 100_000:  # bounded memory under a spray of names
                self._failures.clear()
            for k in keys:
                self._failures[k].append(now)

    def succeeded(self, keys) -> None:
        with self._lock:
            self._failures.pop(keys[0], None)  # the pair's count; the address keeps its own
