"""Placement asks the warehouses this process knows in one request; a SKU that comes out short
there is read again over every warehouse, so stock in a warehouse this process has never seen
(opened a moment ago, by another process) is still found and reserved."""
from __future__ import annotations

import uuid

from oms.core import memories
from oms.wms import stock
from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401


def _stock_in_a_new_warehouse(agent, sku: str, qty: int) -> str:
    """Another process opens a warehouse this one has not seen, and counts stock there."""
    wh = "NEW" + uuid.uuid4().hex[:8].upper()
    assert wh not in memories.warehouses.known()
    agent.db.save({"_id": stock.stock_id(sku, wh), "type": "stock", "sku": sku, "warehouse": wh,
                   "on_hand": qty, "reserved": 0, "holds": {}})
    return wh


def test_stock_only_in_an_unseen_warehouse_is_found_and_reserved(fulfil, agent, new_customer, new_sku):
    fulfil("sally").stock.levels(new_sku(5))    # this process knows MAIN now
    sku = new_sku(0)
    wh = _stock_in_a_new_warehouse(agent, sku, 4)
    order = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(sku, 3)]})
    assert order["status"] == "allocated" and not order.get("backorders")
    assert order["allocations"] == [{"line": 1, "sku": sku, "warehouse": wh, "qty": 3}]


def test_a_line_short_in_the_known_warehouses_takes_the_rest_from_an_unseen_one(fulfil, agent, new_customer, new_sku):
    sku = new_sku(2)                              # MAIN, known to this process
    fulfil("sally").stock.levels(sku)
    wh = _stock_in_a_new_warehouse(agent, sku, 5)
    sally = fulfil("sally")
    answer_svc = sally.stock
    assert [a.status for a in answer_svc.availability([{"line": 1, "sku": sku, "qty": 6}])] == ["available"]
    order = sally.create({"customer": new_customer(), "status": "submitted", "lines": [line(sku, 6)]})
    got = {a["warehouse"]: a["qty"] for a in order["allocations"]}
    assert got == {wh: 5, "MAIN": 1} and not order.get("backorders")


def test_the_known_warehouses_are_asked_for_every_sku_at_once(fulfil, new_sku):
    skus = [new_sku(3), new_sku(1, EAST=2)]
    svc = fulfil("sally").stock
    for sku in skus:
        svc.levels(sku)
    found = svc.levels_in_known_warehouses(skus)
    assert {sku: sorted(d["warehouse"] for d in docs) for sku, docs in found.items()} == {
        skus[0]: ["MAIN"], skus[1]: ["EAST", "MAIN"]}
