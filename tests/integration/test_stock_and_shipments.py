"""Stock and shipments on the real server: claims split over warehouses, split and partial
shipments as documents that consume the stock, cancel gives the stock back, and the database
itself refuses a stock write that would oversell, whoever sends it."""
from __future__ import annotations

import base64

import pytest

from oms.core.errors import InvalidInput
from oms.store.couch import Conflict, Forbidden
from oms.wms.stock import hold_key
from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku, stock_doc  # noqa: F401


def basic(name):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}


def test_split_and_partial_shipments_consume_stock_until_the_order_is_shipped(app, agent, fulfil, new_customer, new_sku):
    x = new_sku(3, EAST=2)   # line 1 takes MAIN 3 (the fullest), then EAST 2
    y = new_sku(1)           # line 2 gets 1, 3 wait
    order = fulfil("sally").create({"customer": new_customer("gold"), "status": "submitted",
                                    "lines": [line(x, 5), line(y, 4)]})
    assert order["allocations"] == [{"line": 1, "sku": x, "warehouse": "EAST", "qty": 2},
                                    {"line": 1, "sku": x, "warehouse": "MAIN", "qty": 3},
                                    {"line": 2, "sku": y, "warehouse": "MAIN", "qty": 1}]
    assert order["backorders"] == [{"line": 2, "sku": y, "qty": 3}]
    fulfil("wanda").act(order["number"], "pick")

    client = app.test_client()
    url = f"/api/v1/orders/{order['number']}/shipments"
    r = client.post(url, headers=basic("sally"), json={})
    assert r.status_code == 403  # Sales does not ship

    with pytest.raises(InvalidInput, match="3 unit.s. would still be missing"):
        fulfil("sam").act(order["number"], "ship")  # a full "ship" while units wait: no
    r = client.post(url, headers=basic("sam"), json={"carrier": "DHL", "tracking": "JD0001"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert sorted((s["warehouse"], [(l["line"], l["qty"]) for l in s["lines"]]) for s in body["shipments"]) == \
        [("EAST", [(1, 2)]), ("MAIN", [(1, 3), (2, 1)])]  # a split shipment: one document per warehouse
    assert all(s["shipped_by"] == "sam" and s["carrier"] == "DHL" for s in body["shipments"])
    shipped = body["order"]
    assert shipped["status"] == "partially_shipped"
    assert [l["shipped_qty"] for l in shipped["lines"]] == [5, 1]
    assert [(stock_doc(agent, x, w)["on_hand"], stock_doc(agent, x, w)["reserved"]) for w in ("MAIN", "EAST")] == [(0, 0), (0, 0)]
    assert (stock_doc(agent, y)["on_hand"], stock_doc(agent, y)["reserved"]) == (0, 0)

    # nothing held: nothing to ship
    r = client.post(url, headers=basic("sam"), json={})
    assert r.status_code == 400 and "holds no stock" in r.get_json()["detail"]

    # the rest arrives, is allocated to the waiting line (partially shipped orders keep their place) and ships
    r = client.post("/api/v1/stock/receipts", headers=basic("wanda"), json={"sku": y, "qty": 3})
    assert [s["order"] for s in r.get_json()["served"]] == [order["number"]]
    r = client.post(url, headers=basic("sam"), json={"warehouse": "MAIN", "lines": [{"line": 2, "qty": 3}]})
    assert r.status_code == 201, r.get_json()
    done = r.get_json()["order"]
    assert done["status"] == "shipped" and [l["shipped_qty"] for l in done["lines"]] == [5, 4]
    assert len(done["shipped"]) == 3
    got = client.get(url, headers=basic("rita")).get_json()
    assert len(got["shipments"]) == 3 and got["status"] == "shipped"
    assert agent.stock.audit(y, [done]) == [] and agent.stock.audit(x, [done]) == []


def test_a_shipment_cannot_take_more_than_the_line_holds(app, fulfil, new_customer, new_sku):
    sku = new_sku(5)
    order = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(sku, 5)]})
    fulfil("wanda").act(order["number"], "pick")
    r = app.test_client().post(f"/api/v1/orders/{order['number']}/shipments", headers=basic("sam"),
                               json={"warehouse": "MAIN", "lines": [{"line": 1, "qty": 6}]})
    assert r.status_code == 400 and "line 1 can ship 0 to 5 from MAIN, not 6" in r.get_json()["detail"]


@pytest.mark.parametrize("body,needle", [
    ({"warehouse": "MAIN", "carrier": {"name": "DHL"}}, "carrier must be text"),
    ({"warehouse": "MAIN", "tracking": 12345}, "tracking must be text"),
    ({"warehouse": "MAIN", "carrier": "x" * 81}, "carrier may hold at most 80 characters"),
    ({"warehouse": "MAIN", "lines": [{"line": 1.5, "qty": 1}]}, "lines[0].line must be a whole number"),
    ({"warehouse": "MAIN", "rev": ["1-abc"]}, "rev must be the _rev text"),
    ({"warehouse": 7}, 'warehouse must be a warehouse code like "MAIN"'),
])
def test_a_shipment_with_fields_of_the_wrong_kind_is_refused_and_ships_nothing(app, fulfil, new_customer, new_sku,
                                                                              body, needle):
    # Each field is checked for what it is: carrier and tracking are text, a line is a whole
    # number (1.5 is not line 1), rev is a string, a warehouse is a code (the number 7 is not "7").
    sku = new_sku(5)
    order = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(sku, 5)]})
    fulfil("wanda").act(order["number"], "pick")
    client = app.test_client()
    r = client.post(f"/api/v1/orders/{order['number']}/shipments", headers=basic("sam"), json=body)
    assert r.status_code == 400 and needle in r.get_json()["detail"], r.get_json()
    assert client.get(f"/api/v1/orders/{order['number']}/shipments", headers=basic("sam")).get_json()["shipments"] == []


def test_a_shipment_record_never_changes(person, fulfil, new_customer, new_sku):
    sku = new_sku(2)
    order = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(sku, 2)]})
    fulfil("wanda").act(order["number"], "pick")
    docs, _ = fulfil("sam").ship(order["number"])
    _, db = person("sam")
    doc = db.get(docs[0]["_id"])
    doc["tracking"] = "changed"
    with pytest.raises(Forbidden, match="never changes"):
        db.save(doc)


def test_cancelling_gives_the_stock_back(agent, fulfil, new_customer, new_sku):
    sku = new_sku(10)
    order = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(sku, 4)]})
    assert stock_doc(agent, sku)["reserved"] == 4
    doc = fulfil("sally").act(order["number"], "cancel", reason="customer changed their mind")
    assert doc["status"] == "cancelled" and "allocations" not in doc
    stock = stock_doc(agent, sku)
    assert (stock["reserved"], stock["holds"], stock["updated_by"]) == (0, {}, "oms-agent")


def test_a_warehouse_person_allocates_as_themselves_when_the_hand_off_did_not(agent, fulfil, new_customer, new_sku):
    sku = new_sku(10)
    order = fulfil("sally").create({"customer": new_customer(), "lines": [line(sku, 4)]})  # a draft
    # approve without the hand-off (as a plain service), so the order waits in approved
    plain = fulfil("sally").plain()
    plain.act(order["number"], "submit")
    fulfil("carl").plain().act(order["number"], "approve")
    doc = fulfil("wanda").act(order["number"], "allocate")
    assert doc["status"] == "allocated" and doc["history"][-1]["by"] == "wanda"
    assert stock_doc(agent, sku)["updated_by"] == "wanda"
    with pytest.raises(InvalidInput, match="cannot be taken"):
        fulfil("wanda").act(order["number"], "allocate")


@pytest.mark.parametrize("change,needle", [
    ({"reserved": 11, "holds": {"SO-000001/1": 11}}, "would oversell"),
    ({"reserved": 3, "holds": {"SO-000001/1": 2}}, "reserved must be the sum of the holds = 2"),
    ({"on_hand": -1}, "on_hand must be a whole number from 0"),
    ({"holds": {"nobody": 1}, "reserved": 1}, "must name an order line"),
])
def test_the_database_refuses_stock_writes_that_do_not_add_up(agent, person, new_sku, change, needle):
    sku = new_sku(10)
    _, db = person("wanda")
    doc = stock_doc(agent, sku)
    doc.update(change)
    with pytest.raises(Forbidden, match=needle):
        db.save(doc)


def test_a_stale_claim_loses_with_a_conflict_and_sales_cannot_touch_stock(agent, person, new_sku):
    sku = new_sku(10)
    _, wanda = person("wanda")
    first, second = stock_doc(agent, sku), stock_doc(agent, sku)
    first.update(reserved=6, holds={"SO-000001/1": 6})
    second.update(reserved=6, holds={"SO-000002/1": 6})
    wanda.save(first)
    with pytest.raises(Conflict):
        wanda.save(second)  # decided on the old revision: 6 + 6 would have oversold 10
    _, sally = person("sally")
    doc = stock_doc(agent, sku)
    doc["on_hand"] = 1000
    with pytest.raises(Forbidden, match=r"\[Warehouse\]"):
        sally.save(doc)


def test_a_count_below_what_is_reserved_is_refused_with_the_reason(agent, new_sku):
    sku = new_sku(10)
    agent.stock.claim(sku, "MAIN", "SO-000009/1", 8)
    with pytest.raises(InvalidInput, match="below the 8 units reserved"):
        agent.stock.set_count(sku, "MAIN", 5)
    agent.stock.give_back(sku, "MAIN", "SO-000009/1", 8)


def test_an_amendment_gives_the_stock_back_and_runs_credit_and_allocation_again(agent, fulfil, new_customer, new_sku):
    sku = new_sku(10)
    order = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(sku, 4)]})
    assert stock_doc(agent, sku)["holds"] == {f"{order['number']}/1": 4}
    doc = fulfil("sally").amend(order["number"], [line(sku, 7)], "customer wants 7")
    assert doc["status"] == "allocated" and doc["version"] == 2
    assert agent.db.get(f"{order['_id']}:v1")["lines"][0]["qty"] == 4  # the old version is kept
    assert [(h["action"], h["by"]) for h in doc["history"][-3:]] == [("amend", "sally"), ("approve", "oms-agent"),
                                                                     ("allocate", "oms-agent")]
    assert doc["allocations"] == [{"line": 1, "sku": sku, "warehouse": "MAIN", "qty": 7}]
    assert stock_doc(agent, sku)["holds"] == {f"{order['number']}/1": 7}


@pytest.mark.parametrize("number", ["SO-ACME-000021", "SO-GLOBEX-000001", "SO-000123"])
def test_every_order_number_the_system_issues_may_hold_stock(agent, new_sku, number):
    sku = new_sku(5)
    assert agent.stock.claim(sku, "MAIN", hold_key(number, 1), 2) == 2
    assert stock_doc(agent, sku)["holds"] == {f"{number}/1": 2}


def test_a_hold_that_names_no_order_line_is_refused_by_the_server(agent, new_sku):
    sku = new_sku(5)
    with pytest.raises(Forbidden, match='must name an order line like "SO-000123/1"'):
        agent.stock.claim(sku, "MAIN", "loot/1", 2)


def test_a_wms_count_sets_the_bin_and_the_pick_list_walks_the_bins_in_order(web, fulfil, new_customer, new_sku, agent):
    import re
    from oms.interchange.feeds import import_stock
    a, b = sorted([new_sku(0), new_sku(0)])
    report = import_stock([{"sku": a, "warehouse": "MAIN", "on_hand": "5", "bin": "C-01"},
                           {"sku": b, "warehouse": "MAIN", "on_hand": "5", "bin": "A-07"},
                           {"sku": b, "warehouse": "EAST", "on_hand": "1", "bin": "no <good>"}], agent.stock, agent)
    assert report.counted == 2 and report.errors[0]["row"] == 3 and "bin must be a place" in report.errors[0]["reason"]
    assert stock_doc(agent, b)["bin"] == "A-07"
    order = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(a, 1), line(b, 1)]})
    web.login("wanda")
    page = web.get("/warehouses/MAIN/pick-list").get_data(as_text=True)
    mine = [(binname, sku) for binname, sku, number in
            re.findall(r"<tr><td>([^<]*)</td><td><strong>([^<]+)</strong></td>.*?(SO-\d+) /", page, re.S)
            if number == order["number"]]
    assert mine == [("A-07", b), ("C-01", a)]        # bin order, not SKU order
