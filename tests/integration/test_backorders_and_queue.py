"""Backorders on the real server: what cannot be served waits, and a receipt serves the waiting
lines most urgent first, then oldest (the system identity allocates them); priority comes from
the customer profile and the order; My queue lists a role's orders the same way."""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from oms.fulfilment import handoffs
from oms.wms.stock import StockService
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


@contextlib.contextmanager
def requests_of_this_thread(server):
    """The HTTP requests this thread makes to the database server meanwhile ([(method, path)])."""
    seen, me = [], threading.get_ident()

    def hook(response, *args, **kwargs):
        if threading.get_ident() == me:
            seen.append((response.request.method, response.request.path_url))
    server.session.hooks["response"].append(hook)
    try:
        yield seen
    finally:
        server.session.hooks["response"].remove(hook)


def _receipt_for_waiting_lines(server, person, agent, fulfil, new_customer, new_sku, waiting: int):
    """`waiting` orders wait for 2 units each (the first two on two lines of the SKU); a receipt
    of 2 x waiting - 1 units serves them all but the last one's last unit. Returns the orders in
    the order they wait, the receipt's answer and the requests it made."""
    sku = new_sku(0)
    sally = fulfil("sally")
    customer = new_customer("silver")
    orders = []
    for i in range(waiting):
        lines = [line(sku, 1), line(sku, 1)] if i < 2 else [line(sku, 2)]
        orders.append(sally.create({"customer": customer, "status": "submitted", "lines": lines}))
    access, db = person("wanda")
    with requests_of_this_thread(server) as seen:
        doc, served = handoffs.receive(StockService(db, access), agent, sku, "MAIN", 2 * waiting - 1)
    return sku, orders, doc, served, seen


def test_a_receipt_serves_every_waiting_line_in_a_few_requests_however_many_wait(
        server, person, agent, fulfil, new_customer, new_sku):
    counted = {}
    for waiting in (3, 12):
        sku, orders, doc, served, seen = _receipt_for_waiting_lines(server, person, agent, fulfil, new_customer,
                                                                    new_sku, waiting)
        want = [(orders[0]["number"], 1, 1), (orders[0]["number"], 2, 1), (orders[1]["number"], 1, 1),
                (orders[1]["number"], 2, 1)] + [(o["number"], 1, 2) for o in orders[2:]]
        want[-1] = (want[-1][0], 1, 1)   # the last unit is missing: it stays backordered
        assert [(s["order"], s["line"], s["qty"]) for s in served] == want
        got = [agent.orders.get(o["number"]) for o in orders]
        assert all("backorders" not in o for o in got[:-1])
        assert got[-1]["backorders"] == [{"line": 1, "sku": sku, "qty": 1}]
        two_lines = got[0]["history"][-2:]   # one entry per line served, as a person's steps would be
        assert [(h["action"], h["by"], h["reason"]) for h in two_lines] == [
            ("allocate_backorders", "oms-agent", f"1 x {sku} arrived for line 1"),
            ("allocate_backorders", "oms-agent", f"1 x {sku} arrived for line 2")]
        assert got[-1]["history"][-1]["reason"] == f"1 x {sku} arrived for line 1"
        assert got[-1]["allocations"] == [{"line": 1, "sku": sku, "warehouse": "MAIN", "qty": 1}]
        stock = stock_doc(agent, sku)
        assert (stock["on_hand"], stock["reserved"], doc["on_hand"]) == (2 * waiting - 1, 2 * waiting - 1, 2 * waiting - 1)
        assert agent.stock.audit(sku, got) == []
        counted[waiting] = len(seen)
    assert counted[12] == counted[3], counted


def test_receipts_at_the_same_moment_never_lose_or_serve_a_unit_twice(person, agent, fulfil, new_customer, new_sku):
    # Each receipt's pass writes the same stock document and the same orders as the others: the
    # losers decide again on fresh reads, and what a receipt could not place waits, free.
    sku = new_sku(0)
    sally = fulfil("sally")
    orders = [sally.create({"customer": new_customer("silver"), "status": "submitted", "lines": [line(sku, 3)]})
              for _ in range(6)]
    access, db = person("wanda")
    start = threading.Barrier(6)

    def receipt():
        start.wait()
        return handoffs.receive(StockService(db, access), agent, sku, "MAIN", 3)[1]
    with ThreadPoolExecutor(6) as pool:
        served = [s for answer in pool.map(lambda _: receipt(), range(6)) for s in answer]
    served += handoffs.allocate_backorders(sku, agent)   # what a receipt left free, if any
    got = [agent.orders.get(o["number"]) for o in orders]
    assert sum(s["qty"] for s in served) == 18
    assert all("backorders" not in o and sum(a["qty"] for a in o["allocations"]) == 3 for o in got)
    doc = stock_doc(agent, sku)
    assert (doc["on_hand"], doc["reserved"]) == (18, 18) and agent.stock.audit(sku, got) == []


def test_an_order_changed_while_a_receipt_serves_it_keeps_the_change_and_still_gets_its_units(
        person, agent, fulfil, new_customer, new_sku, monkeypatch):
    # Sally edits the order after the receipt read it: the receipt's write of it loses (409), its
    # claims go back, and it decides again on her revision. Nothing is lost or held twice.
    sku = new_sku(0)
    sally = fulfil("sally")
    first = sally.create({"customer": new_customer("silver"), "status": "submitted", "lines": [line(sku, 2)]})
    second = sally.create({"customer": new_customer("silver"), "status": "submitted", "lines": [line(sku, 2)]})
    decide, edited = handoffs._backorders_served, []

    def sally_edits_meanwhile(order, *args):
        if order["number"] == first["number"] and not edited:
            edited.append(sally.act(first["number"], "edit", changes={"notes": "call before delivery"}))
        return decide(order, *args)
    monkeypatch.setattr(handoffs, "_backorders_served", sally_edits_meanwhile)
    access, db = person("wanda")
    _, served = handoffs.receive(StockService(db, access), agent, sku, "MAIN", 3)
    assert edited and [(s["order"], s["qty"]) for s in served] == [(first["number"], 2), (second["number"], 1)]
    got = [agent.orders.get(o["number"]) for o in (first, second)]
    assert got[0]["notes"] == "call before delivery" and "backorders" not in got[0]
    assert got[1]["backorders"] == [{"line": 1, "sku": sku, "qty": 1}]
    doc = stock_doc(agent, sku)
    assert (doc["on_hand"], doc["reserved"]) == (3, 3) and agent.stock.audit(sku, got) == []
