"""Orders submitted at the same moment are written and settled together (oms/placement.py): each
still gets its credit decision, its stock and its history, the books add up, and what one order
could not do in the pass it does alone."""
from __future__ import annotations

import threading

from oms import placement
from oms.couch import Conflict
from oms.stock import StockService
from tests.links_fixtures import agent, fulfil, line, new_customer, new_sku, stock_doc  # noqa: F401


def submitted(customer: str, *lines) -> dict:
    return {"customer": customer, "status": "submitted", "lines": list(lines)}


def one_pass(fulfil, agent, *orders):
    """Place `orders` ([(person, data)]) in ONE pass, as the batcher hands concurrent ones over."""
    placed = []
    for name, data in orders:
        svc = fulfil(name)
        placed.append((svc.build(data, customer=svc.customer(data["customer"])), svc.db))
    return placement._Pass(agent, placed).run()


def books(agent, sku, orders):
    return StockService(agent.db, agent.access).audit(sku, [agent.orders.get(o["number"]) for o in orders])


def test_orders_placed_together_are_each_credit_checked_allocated_and_recorded_step_by_step(fulfil, agent, new_customer, new_sku):
    sku = new_sku(10)
    out = one_pass(fulfil, agent, *[("sally", submitted(new_customer(), line(sku, 3))) for _ in range(3)])
    orders = [order for order, _ in out]
    assert [o["status"] for o in orders] == ["allocated"] * 3
    for order, answers in out:
        assert [h["action"] for h in order["history"]] == ["create", "approve", "allocate"]
        assert order["history"][1]["by"] == agent.access.name and order["credit"]["result"] == "ok"
        assert order["_rev"].startswith("2-")          # the person's write, then the system's one
        assert answers == [{"line": 1, "sku": sku, "qty": 3, "status": "available", "available": 3,
                            "backorder": 0, "known": True, "reserved": True}]
    assert stock_doc(agent, sku)["reserved"] == 9 and not books(agent, sku, orders)


def test_what_the_stock_cannot_cover_is_backordered_in_the_order_placed(fulfil, agent, new_customer, new_sku):
    sku = new_sku(5)
    out = one_pass(fulfil, agent, *[("sally", submitted(new_customer(), line(sku, 3))) for _ in range(3)])
    orders = [order for order, _ in out]
    assert [sum(a["qty"] for a in o.get("allocations") or ()) for o in orders] == [3, 2, 0]
    assert [o.get("backorders") for o in orders][1:] == [[{"line": 1, "sku": sku, "qty": 1}],
                                                         [{"line": 1, "sku": sku, "qty": 3}]]
    assert stock_doc(agent, sku)["reserved"] == 5 and not books(agent, sku, orders)


def test_a_customers_orders_in_one_pass_share_its_credit_limit(fulfil, agent, new_customer, new_sku):
    sku, customer = new_sku(10), new_customer(credit_limit_cents=10_000)
    out = one_pass(fulfil, agent, ("sally", submitted(customer, line(sku, 6))), ("sally", submitted(customer, line(sku, 5))))
    first, second = (order for order, _ in out)
    assert first["status"] == "allocated"
    assert second["status"] == "credit_hold" and "exceeds the credit limit" in second["history"][-1]["reason"]
    assert second["credit"]["open_orders_cents"] == 6_000   # the first order, approved in the same pass
    assert stock_doc(agent, sku)["reserved"] == 6 and not books(agent, sku, [first, second])


def test_a_stock_document_changed_under_the_pass_is_claimed_again_alone(fulfil, agent, new_customer, new_sku, monkeypatch):
    sku = new_sku(4)
    read = placement.stock_by_sku

    def read_then_someone_receives(skus, docs):
        out = read(skus, docs)
        StockService(agent.db, agent.access).receive(sku, "MAIN", 2)   # the pass's copy is now stale
        return out
    monkeypatch.setattr(placement, "stock_by_sku", read_then_someone_receives)
    (order, _), = one_pass(fulfil, agent, ("sally", submitted(new_customer(), line(sku, 5))))
    assert order["status"] == "allocated" and order["allocations"][0]["qty"] == 5 and not order.get("backorders")
    assert stock_doc(agent, sku)["reserved"] == 5 and stock_doc(agent, sku)["on_hand"] == 6
    assert not books(agent, sku, [order])


def test_a_persons_refused_write_fails_only_their_own_order(fulfil, agent, new_customer, new_sku):
    sku = new_sku(10)
    taken = fulfil("sally").create({"customer": new_customer(), "lines": [line(sku, 1)]})
    svc = fulfil("sally")
    again = svc.build(submitted(new_customer(), line(sku, 2)), number=taken["number"])
    fine = svc.build(submitted(new_customer(), line(sku, 2)))
    out = placement._Pass(agent, [(again, svc.db), (fine, svc.db)]).run()
    assert isinstance(out[0], Conflict)
    assert out[1][0]["status"] == "allocated"
    assert stock_doc(agent, sku)["reserved"] == 2


def test_many_people_placing_at_once_never_oversell(fulfil, agent, new_customer, new_sku):
    sku, n = new_sku(12), 10
    start, results, errors = threading.Barrier(n), [], []

    def place(i):
        svc = fulfil("sally")
        start.wait()
        try:
            results.append(svc.create(submitted(new_customer(), line(sku, 3))))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)
    threads = [threading.Thread(target=place, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = sum(a["qty"] for o in results for a in o.get("allocations") or ())
    waiting = sum(b["qty"] for o in results for b in o.get("backorders") or ())
    assert got == 12 and waiting == 3 * n - 12
    assert stock_doc(agent, sku)["reserved"] == 12 and not books(agent, sku, results)


def test_a_draft_is_not_settled_and_answers_availability_as_before(fulfil, new_customer, new_sku):
    sku = new_sku(2)
    svc = fulfil("sally")
    order = svc.create({"customer": new_customer(), "status": "draft", "lines": [line(sku, 3)]})
    assert order["status"] == "draft" and "allocations" not in order
    assert [(a["status"], a["available"], a["backorder"]) for a in svc.availability] == [("partial", 2, 1)]
