"""Sign-in throttling: after repeated failures for one user name (or from one address) further
attempts are refused for a while, before the directory is even asked.

Counters live in the worker process (like Flask-Limiter's memory store): with N workers an
attacker gets at most N x the allowance, which still turns a password guess per millisecond into
a handful per quarter hour."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

MAX_FAILURES = 5   # per user name; one address may fail ADDRESS_FACTOR times as often
ADDRESS_FACTOR = 10
WINDOW = 300.0     # seconds in which failures count
LOCKOUT = 300.0    # seconds refused once the allowance is used up


class Throttle:
    def __init__(self, max_failures=MAX_FAILURES, window=WINDOW, lockout=LOCKOUT, clock=time.monotonic):
        self.max, self.window, self.lockout, self.clock = max_failures, window, lockout, clock
        self._failures: dict[str, deque] = defaultdict(deque)
        self._locked: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(name: str, address: str | None) -> list[str]:
        return [f"user:{(name or '').lower()}", f"addr:{address or '?'}"]

    def retry_after(self, keys) -> int:
        """Seconds until these keys may try again (0: go ahead)."""
        now = self.clock()
        with self._lock:
            until = max((self._locked.get(k, 0) for k in keys), default=0)
            return max(0, int(until - now + 0.999))

    def failed(self, keys) -> None:
        now = self.clock()
        with self._lock:
            for k in keys:
                q = self._failures[k]
                q.append(now)
                while q and q[0] < now - self.window:
                    q.popleft()
                limit = self.max * (ADDRESS_FACTOR if k.startswith("addr:") else 1)
                if len(q) >= limit:
                    self._locked[k] = now + self.lockout
                    q.clear()
            if len(self._failures) > 100_000:  # bounded memory under a spray of names
                self._failures.clear()

    def succeeded(self, keys) -> None:
        with self._lock:
            self._failures.pop(keys[0], None)  # the user's count; the address keeps its own
