"""Group commit against the real server: writes one person makes at the same moment share a
_bulk_docs request, and each still gets its own outcome: saved, refused by validate_doc_update
with the rulebook's sentence, or a conflict for a stale revision."""
from __future__ import annotations

import random
import threading

import pytest

from oms.catalog.products import Book
from oms.ordering.orders import new_order
from tests.viewdata import product_doc
from oms.store.couch import Conflict, Forbidden


@pytest.fixture
def sally_db(person, seeded):
    return person("sally")


def numbers(n: int) -> list[str]:
    """Order numbers no other test uses (SO-4xxxxx, drawn at random)."""
    return [f"SO-4{k:05d}" for k in random.sample(range(100_000), n)]


def _order(access, number: str, status: str = "draft") -> dict:
    doc = new_order({"customer": "C0008", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "2.00"}]},
                    number, access, {"_id": "customer:C0008", "name": "Zz Group Commit Test"}, "2026-11-25T10:00:00Z",
                    Book({"WID-100": product_doc("WID-100")}, ()))
    doc["status"] = doc["history"][0]["to"] = status
    return doc


def test_concurrent_writes_of_one_person_each_get_their_own_outcome(sally_db, server):
    access, db = sally_db
    nums = numbers(14)
    stale = db.save(_order(access, nums[0]))
    stale = {**stale, "notes": "first"}
    db.save({**stale, "history": [*stale["history"], {**stale["history"][0], "action": "edit", "from": "draft",
                                                           "to": "draft"}]})
    docs = {n: _order(access, n) for n in nums[1:13]}
    docs[nums[13]] = _order(access, nums[13], status="shipped")   # refused by the VDU
    docs[nums[0]] = stale                                         # its revision is old
    group = server.group(db)
    before = group.flushes, group.documents
    outcomes = {}
    gate = threading.Barrier(len(docs))

    def write(number, doc):
        gate.wait()
        try:
            outcomes[number] = db.save(doc)["_rev"]
        except (Forbidden, Conflict) as exc:
            outcomes[number] = exc

    threads = [threading.Thread(target=write, args=item) for item in docs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert isinstance(outcomes[nums[13]], Forbidden)
    assert "draft or submitted" in outcomes[nums[13]].reason
    assert isinstance(outcomes[nums[0]], Conflict)
    for number in nums[1:13]:
        assert outcomes[number].startswith("1-")
        assert db.get(f"order:{number}")["_rev"] == outcomes[number]
    assert db.get_or_none(f"order:{nums[13]}") is None
    flushes, documents = group.flushes - before[0], group.documents - before[1]
    assert documents == len(docs) and flushes < len(docs)   # some writes shared a request


def test_bulk_results_come_back_in_the_order_of_the_documents_sent(sally_db):
    """PouchDB Server lists refused documents first; Database.bulk puts every row back in place,
    so callers that pair documents with results (imports, agents) pair them right."""
    access, db = sally_db
    nums = numbers(6)
    docs = [_order(access, n) for n in nums[:5]]
    docs.insert(2, _order(access, nums[5], status="shipped"))
    rows = db.bulk(docs)
    assert [r["id"] for r in rows] == [d["_id"] for d in docs]
    assert rows[2]["error"] == "forbidden" and all("rev" in r for i, r in enumerate(rows) if i != 2)
