"""Threads of one process take turns on a named thing (a stock document, a customer's credit):
they would only collide with 409s or decide on the same stale figure. Processes and servers still
race; what keeps the books right across them is said where a turn is taken."""
from __future__ import annotations

import threading

_turns: dict[str, threading.Lock] = {}
_turns_lock = threading.Lock()


def turn(key: str) -> threading.Lock:
    with _turns_lock:
        if len(_turns) > 10_000:
            _turns.clear()
        return _turns.setdefault(key, threading.Lock())
