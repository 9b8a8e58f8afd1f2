"""The process memories (oms/core/memories.py): one call forgets them all, so a test can start from
what the database holds."""
from __future__ import annotations

from oms.core import memories


def test_forget_all_empties_every_memory():
    memories.remember_customer("db", {"_id": "customer:C1", "name": "Acme"})
    memories.stock.keep("db", [{"_id": "stock:A:MAIN", "type": "stock", "_rev": "1-a"}])
    memories.warehouses.saw(["MAIN"])
    memories.exposure.store("db", {"customer:C1": 100}, memories.exposure.clock())
    memories.replicator_copies["http://server"] = 3
    memories.schedulers["http://server"] = True
    assert memories.acl_document("db", 60, lambda: {"entries": []}) == {"entries": []}

    memories.forget_all()

    assert memories.profiles.get(("db", "customer:C1")) is None
    assert memories.stock.recall("db", ["stock:A:MAIN"]) == {}
    assert memories.warehouses.known() == []
    assert memories.exposure.recall("db", ["customer:C1"]) == {}
    assert memories.replicator_copies == {} and memories.schedulers == {}
    assert memories.acl_document("db", 60, lambda: {"entries": ["read again"]}) == {"entries": ["read again"]}
    memories.forget_all()
