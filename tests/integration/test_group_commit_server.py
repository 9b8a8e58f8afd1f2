"""Group commit against the real server: writes one person makes at the same moment share a
_bulk_docs request, and each still gets its own outcome: saved, refused by validate_doc_update
with the rulebook's sentence, or a conflict for a stale revision."""
from __future__ import annotations

import threading

import pytest

from oms.couch import Conflict, Forbidden
from oms.orders import new_order


@pytest.fixture
def sally_db(person, seeded):
    return person("sally")


def _order(access, number: str, status: str = "draft") -> dict:
    doc = new_order({"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "2.00"}]},
                    number, access, {"_id": "customer:C0001", "name": "Acme"}, "2026-11-25T10:00:00Z")
    doc["status"] = doc["history"][0]["to"] = status
    return doc


def test_concurrent_writes_of_one_person_each_get_their_own_outcome(sally_db, server):
    access, db = sally_db
    stale = db.save(_order(access, "SO-880000"))
    stale = {**stale, "notes": "first"}
    db.save({**stale, "history": [*stale["history"], {**stale["history"][0], "action": "edit", "from": "draft",
                                                           "to": "draft"}]})
    docs = {f"SO-88{i:04d}": _order(access, f"SO-88{i:04d}") for i in range(1, 13)}
    docs["SO-889998"] = _order(access, "SO-889998", status="shipped")   # refused by the VDU
    docs["SO-880000"] = stale                                            # its revision is old
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

    assert isinstance(outcomes["SO-889998"], Forbidden)
    assert "draft or submitted" in outcomes["SO-889998"].reason
    assert isinstance(outcomes["SO-880000"], Conflict)
    for i in range(1, 13):
        number = f"SO-88{i:04d}"
        assert outcomes[number].startswith("1-")
        assert db.get(f"order:{number}")["_rev"] == outcomes[number]
    assert db.get_or_none("order:SO-889998") is None
    flushes, documents = group.flushes - before[0], group.documents - before[1]
    assert documents == len(docs) and flushes < len(docs)   # some writes shared a request


def test_bulk_results_come_back_in_the_order_of_the_documents_sent(sally_db):
    """PouchDB Server lists refused documents first; Database.bulk puts every row back in place,
    so callers that pair documents with results (imports, agents) pair them right."""
    access, db = sally_db
    docs = [_order(access, f"SO-87{i:04d}") for i in range(5)]
    docs.insert(2, _order(access, "SO-879999", status="shipped"))
    rows = db.bulk(docs)
    assert [r["id"] for r in rows] == [d["_id"] for d in docs]
    assert rows[2]["error"] == "forbidden" and all("rev" in r for i, r in enumerate(rows) if i != 2)
