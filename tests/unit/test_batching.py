"""The batcher (oms/store/batching.py) placement passes run on: a batch may linger for the wave of
callers still on its way back, never for callers that are not there."""
from __future__ import annotations

import threading
import time

from oms.store.batching import Batcher


class Runs:
    """The work: records each batch; the first one waits for `release` so others gather."""

    def __init__(self):
        self.sizes: list[int] = []
        self.release = threading.Event()

    def __call__(self, items):
        self.sizes.append(len(items))
        if len(self.sizes) == 1:
            self.release.wait(5)
        return [item * 10 for item in items]


def start(batcher, item, results):
    t = threading.Thread(target=lambda: results.append(batcher.submit(item)))
    t.start()
    return t


def test_a_lone_caller_never_lingers():
    batcher = Batcher(Runs(), linger=2.0)
    batcher._run.release.set()
    t0 = time.monotonic()
    assert batcher.submit(1) == 10 and batcher.submit(2) == 20
    assert time.monotonic() - t0 < 0.5


def test_a_batch_lingers_for_the_wave_on_its_way_back_and_runs_it_whole():
    runs, results = Runs(), []
    batcher = Batcher(runs, linger=2.0)
    first = start(batcher, 1, results)
    time.sleep(0.05)                        # 1 runs (and waits); 2 and 3 gather: three inside
    waiting = [start(batcher, 2, results), start(batcher, 3, results)]
    time.sleep(0.05)
    runs.release.set()
    first.join(5)
    time.sleep(0.1)                         # the wave (1) comes back a moment later ...
    back = start(batcher, 4, results)
    for t in [*waiting, back]:
        t.join(5)
    assert runs.sizes == [1, 3]              # ... and 2, 3 waited for it instead of running alone
    assert sorted(results) == [10, 20, 30, 40]


def test_a_batch_stops_lingering_when_nobody_comes():
    runs, results = Runs(), []
    batcher = Batcher(runs, linger=0.3)
    first = start(batcher, 1, results)
    time.sleep(0.05)
    second = start(batcher, 2, results)
    time.sleep(0.05)
    runs.release.set()
    t0 = time.monotonic()
    for t in (first, second):
        t.join(5)
    assert runs.sizes == [1, 1] and sorted(results) == [10, 20]
    assert 0.2 < time.monotonic() - t0 < 1.5   # it waited its linger for a third, then ran
