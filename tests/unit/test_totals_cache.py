"""The totals cache keeps counting off the request path: it answers at once with what it has,
recounts in the background when the database moved on, waits only briefly for a first answer,
and does not recount a slow key more often than its cost allows."""
import threading
import time

from views.totals import TotalsCache


def counter(value_of, delay=0.0):
    calls = []

    def fn():
        calls.append(time.monotonic())
        time.sleep(delay)
        return value_of()
    return fn, calls


def test_a_quick_first_count_is_waited_for_and_then_served_from_the_cache():
    c = TotalsCache()
    fn, calls = counter(lambda: 7)
    assert c.get("k", "1", fn, wait=1.0) == (7, True)
    assert c.get("k", "1", fn, wait=1.0) == (7, True)
    assert len(calls) == 1


def test_a_slow_first_count_does_not_hold_the_page():
    c = TotalsCache()
    fn, _ = counter(lambda: 7, delay=0.5)
    t0 = time.monotonic()
    assert c.get("k", "1", fn, wait=0.05) == (None, False)
    assert time.monotonic() - t0 < 0.3
    time.sleep(0.7)
    assert c.get("k", "1", fn) == (7, True)


def test_after_a_change_the_last_value_is_served_while_it_is_recounted():
    c = TotalsCache()
    box = {"v": 1}
    fn, calls = counter(lambda: box["v"], delay=0.2)
    c.get("k", "1", fn, wait=1.0)
    box["v"] = 2
    assert c.get("k", "2", fn) == (1, False)          # stale, at once
    time.sleep(0.9)
    assert c.get("k", "2", fn) == (2, True)
    assert len(calls) == 2


def test_a_slow_key_is_not_recounted_sooner_than_twice_its_cost():
    c = TotalsCache(ratio=2.0)
    fn, calls = counter(lambda: 1, delay=0.3)
    c.get("k", "1", fn, wait=2.0)
    c.get("k", "2", fn)
    time.sleep(0.3)
    assert len(calls) == 1                             # throttled: not before ~0.6 s after the first
    time.sleep(0.9)
    assert len(calls) == 2 and c.get("k", "2", fn) == (1, True)


def test_the_newest_update_seq_wins_when_several_requests_queue_up():
    c = TotalsCache()
    gate = threading.Event()
    seen = []

    def slow():
        gate.wait(2)
        return "first"
    c.get("k", "1", slow)
    time.sleep(0.05)
    for s in ("2", "3", "4"):
        c.get("k", s, lambda s=s: seen.append(s) or s)
    gate.set()
    time.sleep(0.3)
    assert seen == ["4"] and c.get("k", "4", lambda: "x") == ("4", True)


def test_a_failing_count_keeps_the_last_value_and_is_retried_later():
    c = TotalsCache()
    c.get("k", "1", lambda: 5, wait=1.0)

    def boom():
        raise RuntimeError("database away")
    assert c.get("k", "2", boom, wait=0.5) == (5, False)
    assert c.get("k", "2", lambda: 6, wait=0.1) == (5, False)   # retried only after a pause
    time.sleep(1.2)
    assert c.get("k", "2", lambda: 6, wait=0.5) == (6, True)
