"""Group commit (oms/store/group_commit.py): concurrent writes of one identity share one _bulk_docs, each
writer gets its own document's outcome, a lone write goes out at once as a PUT."""
from __future__ import annotations

import threading
import time

import pytest

from oms.store.group_commit import GroupCommit


class FakeServer:
    """Plays the server's part: records every request; a slow first request lets writers gather."""

    def __init__(self, delay: float = 0.05):
        self.requests: list[tuple[str, list[str]]] = []
        self.delay = delay
        self.lock = threading.Lock()
        self.gate = threading.Event()   # the first request stays in flight until it is set
        self.gate.set()

    def _answer(self):
        if len(self.requests) == 1:
            self.gate.wait(10)
        time.sleep(self.delay)

    def bulk(self, docs):
        with self.lock:
            self.requests.append(("bulk", [d["_id"] for d in docs]))
        self._answer()
        rows = [{"id": d["_id"], "error": "forbidden", "reason": "no"} if d.get("bad") else
                {"id": d["_id"], "rev": "1-x"} for d in docs]
        return rows[::-1]   # PouchDB Server does not keep the request's order

    def single(self, doc):
        with self.lock:
            self.requests.append(("put", [doc["_id"]]))
        self._answer()
        return {"id": doc["_id"], "rev": "1-x"}


def run_writers(group, docs, after_first=lambda: None):
    results, errors = {}, {}

    def write(doc):
        try:
            results[doc["_id"]] = group.save(doc)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            errors[doc["_id"]] = exc

    threads = [threading.Thread(target=write, args=(d,)) for d in docs]
    for i, t in enumerate(threads):
        t.start()
        time.sleep(0.002)  # the first writer's request is in flight while the others arrive
        if i == 0:
            after_first()
    for t in threads:
        t.join(5)
    return results, errors


def test_a_lone_write_goes_out_at_once_as_a_put():
    server = FakeServer(delay=0)
    group = GroupCommit(server.bulk, server.single)
    assert group.save({"_id": "a"}) == {"id": "a", "rev": "1-x"}
    assert server.requests == [("put", ["a"])]


def test_writes_arriving_during_a_flush_travel_together_in_one_bulk_request():
    server = FakeServer()
    group = GroupCommit(server.bulk, server.single)
    server.gate.clear()   # the first write stays in flight until the other five have arrived

    def release_once_all_arrived():
        deadline = time.monotonic() + 10
        while group._inside < 6 and time.monotonic() < deadline:
            time.sleep(0.001)
        server.gate.set()
    threading.Thread(target=release_once_all_arrived).start()
    def first_in_flight():
        deadline = time.monotonic() + 10
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.001)
    results, errors = run_writers(group, [{"_id": f"d{i}"} for i in range(6)], first_in_flight)
    assert not errors and sorted(results) == [f"d{i}" for i in range(6)]
    assert all(results[k]["id"] == k for k in results)   # each writer gets its own row
    assert server.requests[0] == ("put", ["d0"])
    assert [kind for kind, _ in server.requests[1:]] == ["bulk"]   # the other five, together
    assert sorted(server.requests[1][1]) == [f"d{i}" for i in range(1, 6)]
    assert group.documents == 6 and group.flushes == 2


def test_a_refused_document_fails_only_its_own_writer():
    server = FakeServer()
    group = GroupCommit(server.bulk, server.single)
    docs = [{"_id": "first"}, {"_id": "ok1"}, {"_id": "bad", "bad": True}, {"_id": "ok2"}]
    results, errors = run_writers(group, docs)
    assert not errors
    assert results["bad"]["error"] == "forbidden"
    assert results["ok1"]["rev"] == results["ok2"]["rev"] == "1-x"


def test_a_failed_request_reaches_every_writer_of_its_batch_and_the_next_batch_still_goes():
    calls = []

    def bulk(docs):
        calls.append(sorted(d["_id"] for d in docs))
        if len(calls) == 1:
            raise ConnectionError("server away")
        return [{"id": d["_id"], "rev": "1-y"} for d in docs]

    def single(doc):
        if doc["_id"] == "lead":   # in flight until both writers wait behind it, however slow the machine
            deadline = time.monotonic() + 10
            while group._inside < 3 and time.monotonic() < deadline:
                time.sleep(0.001)
        return {"id": doc["_id"], "rev": "1-y"}

    group = GroupCommit(bulk, single)
    first = threading.Thread(target=group.save, args=({"_id": "lead"},))
    first.start()
    while group._inside < 1:
        time.sleep(0.001)
    results, errors = run_writers(group, [{"_id": "a"}, {"_id": "b"}])
    first.join()
    assert calls[0] == ["a", "b"]
    assert set(errors) == {"a", "b"} and all(isinstance(e, ConnectionError) for e in errors.values())
    assert group.save({"_id": "c"})["rev"] == "1-y"   # nothing stuck behind the failure


def test_two_writes_of_one_document_never_share_a_request():
    server = FakeServer()
    group = GroupCommit(server.bulk, server.single)
    results, errors = run_writers(group, [{"_id": "lead"}, {"_id": "same"}, {"_id": "same"}, {"_id": "other"}])
    assert not errors
    assert all(ids.count("same") <= 1 for _, ids in server.requests)
    assert sum(ids.count("same") for _, ids in server.requests) == 2


def test_a_full_batch_leaves_the_rest_for_the_next_flush():
    server = FakeServer()
    group = GroupCommit(server.bulk, server.single, max_docs=3)
    results, errors = run_writers(group, [{"_id": f"d{i}"} for i in range(8)])
    assert not errors and len(results) == 8
    sizes = [len(ids) for _, ids in server.requests]
    assert max(sizes) <= 3 and sum(sizes) == 8


@pytest.mark.parametrize("n", [1, 2, 7])
def test_every_writer_returns_whatever_the_mix(n):
    server = FakeServer(delay=0.01)
    group = GroupCommit(server.bulk, server.single)
    results, errors = run_writers(group, [{"_id": f"d{i}", "bad": i % 2 == 1} for i in range(n)])
    assert len(results) + len(errors) == n

