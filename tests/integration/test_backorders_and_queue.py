"""Backorders on the real server: what cannot be served waits, and a receipt serves the waiting
lines most urgent first, then oldest (the system identity allocates them); priority comes from
the customer profile and the order; My queue lists a role's orders the same way."""
from __future__ import annotations

import base64
import datetime as dt

from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku, stock_doc  # noqa: F401
from views import catalog
from views.reader import read


def basic(name):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}


def in_days(n: int) -> str:
    return (dt.date.today() + dt.timedelta(days=n)).isoformat()


def test_a_receipt_serves_backorders_in_priority_order_then_by_age(app, agent, fulfil, new_customer, new_sku):
    sku = new_sku(0)
    sally = fulfil("sally")
    bronze, gold, silver = new_customer("bronze"), new_customer("gold"), new_customer("silver")

    def place(customer, **more):
        return sally.create({"customer": customer, "status": "submitted", "lines": [line(sku, 4)], **more})

    a = place(bronze)                                   # nothing speaks for it: priority 5, oldest
    b = place(gold, promised_date=in_days(1))           # gold, due tomorrow, waits for stock: 1
    c = place(silver, promised_date=in_days(5))         # silver, due in 5 days, waits: 2
    d = place(silver, promised_date=in_days(5))         # the same, placed later: 2, after c
    assert [o["priority"] for o in (a, b, c, d)] == [5, 1, 2, 2]
    assert all(o["status"] == "allocated" and o["backorders"] == [{"line": 1, "sku": sku, "qty": 4}]
               for o in (a, b, c, d))

    client = app.test_client()
    r = client.post("/api/v1/stock/receipts", headers=basic("wanda"), json={"sku": sku, "warehouse": "MAIN", "qty": 10})
    assert r.status_code == 201, r.get_json()
    served = r.get_json()["served"]
    assert [(s["order"], s["qty"]) for s in served] == [(b["number"], 4), (c["number"], 4), (d["number"], 2)]

    got = {o["number"]: agent.orders.get(o["number"]) for o in (a, b, c, d)}
    assert "backorders" not in got[b["number"]] and "backorders" not in got[c["number"]]
    assert got[d["number"]]["backorders"] == [{"line": 1, "sku": sku, "qty": 2}]
    assert got[a["number"]]["backorders"][0]["qty"] == 4
    last = got[b["number"]]["history"][-1]
    assert (last["action"], last["by"], last["from"], last["to"]) == ("allocate_backorders", "oms-agent", "allocated", "allocated")
    doc = stock_doc(agent, sku)
    assert (doc["on_hand"], doc["reserved"]) == (10, 10)
    assert doc["updated_by"] == "oms-agent"  # the hand-off's claims; the receipt itself was wanda's

    # the next receipt finishes d, then a
    r = client.post("/api/v1/stock/receipts", headers=basic("wanda"), json={"sku": sku, "qty": 6})
    assert [(s["order"], s["qty"]) for s in r.get_json()["served"]] == [(d["number"], 2), (a["number"], 4)]
    orders = [agent.orders.get(o["number"]) for o in (a, b, c, d)]
    assert agent.stock.audit(sku, orders) == []


def test_a_receipt_needs_the_warehouse_role(app, new_sku):
    r = app.test_client().post("/api/v1/stock/receipts", headers=basic("sally"),
                               json={"sku": new_sku(0), "warehouse": "MAIN", "qty": 5})
    assert r.status_code == 403 and "[Warehouse]" in r.get_json()["detail"]


def test_a_receipt_retried_with_its_idempotency_key_adds_the_stock_once(app, agent, new_sku):
    # A receipt is a create: it takes an Idempotency-Key, so a retried one is counted once.
    import uuid
    sku, key = new_sku(0), str(uuid.uuid4())
    client = app.test_client()
    body = {"sku": sku, "warehouse": "MAIN", "qty": 7}
    first = client.post("/api/v1/stock/receipts", headers={**basic("wanda"), "Idempotency-Key": key}, json=body)
    again = client.post("/api/v1/stock/receipts", headers={**basic("wanda"), "Idempotency-Key": key}, json=body)
    assert first.status_code == again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json() and stock_doc(agent, sku)["on_hand"] == 7
    other = client.post("/api/v1/stock/receipts", headers={**basic("wanda"), "Idempotency-Key": key},
                        json={**body, "qty": 8})
    assert other.status_code == 422 and stock_doc(agent, sku)["on_hand"] == 7


def test_priority_is_computed_from_the_profile_and_the_order_and_shown_with_its_reasons(web, fulfil, new_customer, new_sku):
    gold = new_customer("gold")
    doc = fulfil("sally").create({"customer": gold, "lines": [line(new_sku(500), 300, "10.00")],
                                  "promised_date": in_days(3)})
    # gold 30 + value 3,000.00 10 + promised in 3 days 10 = 50 -> 2
    assert doc["priority"] == 2
    web.login("sally")
    html = web.get(f"/orders/{doc['number']}").get_data(as_text=True)
    assert "gold customer +30, value 3,000.00 +10, promised in 3 days +10 = 50 points" in html


def test_my_queue_lists_the_roles_orders_most_urgent_first_then_oldest(person, web, fulfil, new_customer, new_sku):
    sku = new_sku(100)
    sally = fulfil("sally")
    late = sally.create({"customer": new_customer("bronze"), "status": "submitted", "lines": [line(sku, 1)]})
    urgent = sally.create({"customer": new_customer("gold"), "status": "submitted", "lines": [line(sku, 1)],
                           "promised_date": in_days(0)})
    middle = sally.create({"customer": new_customer("silver"), "status": "submitted", "lines": [line(sku, 1)],
                           "promised_date": in_days(6)})
    access, db = person("wanda")
    page = read(db, catalog.get("my_queue").source(access), limit=1000)
    mine = [r["value"]["number"] for r in page.rows if r["value"]["number"] in
            (late["number"], urgent["number"], middle["number"])]
    assert mine == [urgent["number"], middle["number"], late["number"]]
    keys = [(r["value"]["priority"], r["value"]["created_at"], r["value"]["number"]) for r in page.rows]
    assert keys == sorted(keys)
    assert {r["value"]["status"] for r in page.rows} <= {"approved", "allocated", "return_requested"}

    web.login("wanda")
    html = web.get("/views/my_queue?expand=1").get_data(as_text=True)
    assert "My queue" in html and "[Warehouse]" in html and urgent["number"] in html


def test_my_queue_respects_readers_fields(person, fulfil, new_customer, new_sku):
    secret = fulfil("sally").create({"customer": new_customer("gold"), "status": "submitted",
                                     "lines": [line(new_sku(5), 1)], "readers": ["sally", "mia"]})
    assert secret["status"] == "allocated"
    for name, sees in (("wanda", False), ("mia", True)):
        access, db = person(name)
        page = read(db, catalog.get("my_queue").source(access), limit=1000)
        assert (secret["number"] in [r["value"]["number"] for r in page.rows]) is sees, name
