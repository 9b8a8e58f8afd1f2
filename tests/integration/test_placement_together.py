"""Orders submitted at the same moment are written and settled together (oms/fulfilment/placement.py): each
still gets its credit decision, its stock and its history, the books add up, and what one order
could not do in the pass it does alone."""
from __future__ import annotations

import threading

from oms.core import memories
from oms.fulfilment import placement
from oms.store.couch import Conflict
from oms.wms.stock import StockService
from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku, stock_doc  # noqa: F401


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


# -- the exposure a pass remembers (oms/crm/exposure.py) ---------------------------------------------
def count_exposure_reads(monkeypatch) -> list[list[str]]:
    """The customers of each credit exposure query the passes make (the real query still runs)."""
    asked: list[list[str]] = []
    read = placement.crm.exposure_by_customer

    def counting(db, cids):
        asked.append(list(cids))
        return read(db, cids)
    monkeypatch.setattr(placement.crm, "exposure_by_customer", counting)
    return asked


def test_far_below_the_limit_a_pass_decides_on_the_exposure_it_remembers(fulfil, agent, new_customer, new_sku, monkeypatch):
    sku, ext = new_sku(50), new_customer(credit_limit_cents=1_000_000)
    cid = f"customer:{ext}"
    asked = count_exposure_reads(monkeypatch)
    (first, _), = one_pass(fulfil, agent, ("sally", submitted(ext, line(sku, 3))))
    (second, _), = one_pass(fulfil, agent, ("sally", submitted(ext, line(sku, 4))))
    assert first["status"] == second["status"] == "allocated"
    assert [cid in a for a in asked] == [True]            # the second pass asked nobody about it
    assert second["credit"]["open_orders_cents"] == 3_000  # ... and counted the first approval


def test_near_the_limit_a_pass_reads_the_exposure_afresh(fulfil, agent, new_customer, new_sku, monkeypatch):
    sku, ext = new_sku(50), new_customer(credit_limit_cents=10_000)
    cid = f"customer:{ext}"
    asked = count_exposure_reads(monkeypatch)
    (first, _), = one_pass(fulfil, agent, ("sally", submitted(ext, line(sku, 5))))        # 5,000
    # a remembered figure never holds an order: one that looks too high is checked first
    memories.exposure.store(agent.db.name, {cid: 8_500}, memories.exposure.clock())
    (second, _), = one_pass(fulfil, agent, ("sally", submitted(ext, line(sku, 4))))       # 9,000 in all
    (third, _), = one_pass(fulfil, agent, ("sally", submitted(ext, line(sku, 2))))        # 11,000
    assert [first["status"], second["status"], third["status"]] == ["allocated", "allocated", "credit_hold"]
    assert [cid in a for a in asked] == [True, True, True]
    assert second["credit"]["open_orders_cents"] == 5_000 and third["credit"]["open_orders_cents"] == 9_000


def test_an_order_this_process_moves_into_exposure_is_counted_by_the_next_pass(fulfil, agent, new_customer, new_sku):
    sku, ext = new_sku(50), new_customer(credit_limit_cents=10_000)
    (small, _), = one_pass(fulfil, agent, ("sally", submitted(ext, line(sku, 2))))        # 2,000
    (big, _), = one_pass(fulfil, agent, ("sally", submitted(ext, line(sku, 9))))          # 11,000: held
    assert (small["status"], big["status"]) == ("allocated", "credit_hold")
    fulfil("carl").act(big["number"], "approve", reason="paid in advance by wire")       # 11,000 exposed
    (late, _), = one_pass(fulfil, agent, ("sally", submitted(ext, line(sku, 1))))
    assert late["status"] == "credit_hold" and late["credit"]["open_orders_cents"] == 11_000


def test_a_pass_claims_on_the_stock_it_remembers_and_a_stale_memory_costs_only_a_retry(fulfil, agent, new_customer, new_sku, monkeypatch):
    sku = new_sku(10)
    sid = f"stock:{sku}:MAIN"
    (first, _), = one_pass(fulfil, agent, ("sally", submitted(new_customer(), line(sku, 2))))
    asked: list[list[str]] = []
    read = agent.db.all_docs

    def recording(**opts):
        asked.append(list(opts.get("keys") or ()))
        return read(**opts)
    monkeypatch.setattr(agent.db, "all_docs", recording)
    (second, _), = one_pass(fulfil, agent, ("sally", submitted(new_customer(), line(sku, 3))))
    assert second["status"] == "allocated" and sid not in asked[0]   # claimed on the remembered copy
    # another process changes the document; this one's memory still has the old revision
    doc = agent.db.get(sid)
    agent.db.save({**doc, "on_hand": doc["on_hand"] + 5})
    (third, _), = one_pass(fulfil, agent, ("sally", submitted(new_customer(), line(sku, 4))))
    assert third["status"] == "allocated" and third["allocations"] == [{"line": 1, "sku": sku, "warehouse": "MAIN", "qty": 4}]
    stock = stock_doc(agent, sku)
    assert (stock["on_hand"], stock["reserved"]) == (15, 9)
    assert not books(agent, sku, [first, second, third])
