"""Returns on the real server: a partial return with a refund line and a replacement line, the
units back in stock (or in quarantine), a credit note for the refund, a replacement shipment
that is never billed again, and the order closing once paid; the database itself refuses a
return of more than reached the customer, whoever writes it."""
from __future__ import annotations

import copy

import pytest

from oms.core.errors import InvalidInput
from oms.store.couch import Forbidden
from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku, stock_doc  # noqa: F401


def delivered_and_invoiced(fulfil, new_customer, new_sku):
    x, y = new_sku(10), new_sku(10)
    cid = new_customer("gold", ship_tos=[{"id": "MAIN", "name": "Back GmbH", "city": "Bonn", "country": "DE"}])
    order = fulfil("sally").create({"customer": cid, "status": "submitted", "lines": [line(x, 4), line(y, 3)]})
    fulfil("wanda").act(order["number"], "pick")
    fulfil("sam").act(order["number"], "ship")
    fulfil("sam").act(order["number"], "deliver")
    [inv], order = fulfil("bill").billing().issue(order["number"])
    assert order["status"] == "invoiced"
    return order, inv, x, y, cid


def test_a_partial_return_with_a_refund_and_a_replacement_then_closing(fulfil, new_customer, new_sku, agent):
    order, inv, x, y, cid = delivered_and_invoiced(fulfil, new_customer, new_sku)
    number = order["number"]
    sally = fulfil("sally").returns()
    with pytest.raises(InvalidInput) as bad:
        sally.request(number, [{"line": 1, "qty": 5, "reason": "damaged", "outcome": "refund"},
                               {"line": 2, "qty": 1, "reason": "bored", "outcome": "exchange"}])
    assert set(bad.value.fields) == {"lines[0].qty", "lines[1].reason", "lines[1].outcome"}
    assert "from 1 to 4" in bad.value.fields["lines[0].qty"]

    order = sally.request(number, [{"line": 1, "qty": 2, "reason": "damaged", "outcome": "refund"},
                                   {"line": 2, "qty": 1, "reason": "wrong_item", "outcome": "replace"}], "MAIN")
    [rma] = order["returns"]
    assert order["status"] == "return_requested" and rma["number"].startswith("RMA-") and rma["status"] == "requested"
    # line 1 has 2 left to return now
    with pytest.raises(InvalidInput, match="from 1 to 2"):
        fulfil("sally").returns().request(number, [{"line": 1, "qty": 3, "reason": "faulty", "outcome": "refund"}])

    x_main, y_main = stock_doc(agent, x)["on_hand"], stock_doc(agent, y)["on_hand"]
    order = fulfil("wanda").returns().receive(number, rma["number"])
    assert order["status"] == "return_received" and order["returns"][0]["status"] == "received"
    # damaged units go to quarantine; the wrong item goes back on the shelf
    assert stock_doc(agent, x, "QUARANTINE")["on_hand"] == 2 and stock_doc(agent, x)["on_hand"] == x_main
    assert stock_doc(agent, y)["on_hand"] == y_main + 1

    order, [cn] = fulfil("bill").returns().refund(number, rma["number"])
    assert order["status"] == "refunded" and cn["invoice"] == inv["number"] and cn["totals"]["net_cents"] == 2000
    assert order["returns"][0]["status"] == "received"          # the replacement still waits

    order, shipment = fulfil("sam").returns().replace(number, rma["number"])
    assert order["status"] == "replaced" and order["returns"][0]["status"] == "resolved"
    assert shipment["replacement_for"] == rma["number"] and shipment["lines"] == [{"line": 2, "sku": y, "qty": 1}]
    assert stock_doc(agent, y)["on_hand"] == y_main and stock_doc(agent, y)["reserved"] == 0
    with pytest.raises(InvalidInput, match="nothing shipped that is not invoiced"):
        fulfil("bill").billing().issue(number)                 # a replacement is not billed again

    # what is left to pay: the invoice less the credit note; paying it closes the order
    due = fulfil("bill").billing().get(inv["number"])["unpaid_cents"]
    assert due == inv["totals"]["gross_cents"] - cn["totals"]["gross_cents"]
    with pytest.raises(InvalidInput, match="invoices not paid in full"):
        fulfil("bill").act(number, "close")
    _, closed = fulfil("bill").billing().record_payment({"customer": cid, "amount_cents": due})
    assert [o["number"] for o in closed] == [number] and fulfil("bill").get(number)["status"] == "closed"


def test_the_server_refuses_a_return_of_more_than_was_sent_or_a_return_rewritten(fulfil, new_customer, new_sku, person):
    order, _, _, _, _ = delivered_and_invoiced(fulfil, new_customer, new_sku)
    order = fulfil("sally").returns().request(order["number"], [{"line": 1, "qty": 1, "reason": "faulty",
                                                                 "outcome": "refund"}])
    sally_db = person("sally")[1]
    mia_db = person("mia")[1]
    greedy = copy.deepcopy(order)
    greedy["returns"][0]["lines"][0]["qty"] = 40           # straight to the server, past the app
    greedy["history"].append({"at": order["updated_at"], "by": "mia", "action": "note"})
    with pytest.raises(Forbidden, match="more than the 4 sent"):
        mia_db.save(greedy)
    dropped = copy.deepcopy(order)
    dropped["returns"] = []
    dropped["history"].append({"at": order["updated_at"], "by": "sally", "action": "note"})
    with pytest.raises(Forbidden, match="never removed"):
        sally_db.save(dropped)


def test_a_return_step_needs_its_lines(fulfil, new_customer, new_sku):
    order, _, _, _, _ = delivered_and_invoiced(fulfil, new_customer, new_sku)
    with pytest.raises(InvalidInput, match="A return names its lines"):
        fulfil("sally").act(order["number"], "request_return", reason="broken")


def basic(name):
    import base64
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}


def test_returns_through_the_order_page_and_the_api(web, app, fulfil, new_customer, new_sku):
    order, inv, _, _, _ = delivered_and_invoiced(fulfil, new_customer, new_sku)
    number = order["number"]
    web.login("sally")
    page = web.get(f"/orders/{number}").get_data(as_text=True)
    assert "Request a return" in page and ">Request return<" not in page    # not a bare button in the action bar
    url = f"/orders/{number}/returns/new"
    r = web.post(url, {"qty-1": "9", "reason-1": "damaged", "outcome-1": "refund"})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="qty-1-error"' in body and "from 1 to 4" in body
    r = web.post(url, {"qty-1": "1", "reason-1": "faulty", "outcome-1": "refund"})
    assert r.status_code == 303
    rma = fulfil("sally").get(number)["returns"][0]["number"]
    web.c.get("/logout")
    web.login("wanda")
    page = web.get(f"/orders/{number}").get_data(as_text=True)
    assert rma in page and "Receive return" in page and "Faulty, refund" in page
    r = web.post(f"/orders/{number}/returns/{rma}/receive", {}, csrf_from=f"/orders/{number}")
    assert r.status_code == 303 and "back in QUARANTINE" in web.get(f"/orders/{number}").get_data(as_text=True)

    c = app.test_client()
    assert c.post(f"/api/v1/orders/{number}/returns/{rma}/refund", headers=basic("sally")).status_code == 403
    r = c.post(f"/api/v1/orders/{number}/returns/{rma}/refund", headers=basic("bill"))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["order"]["status"] == "refunded" and r.get_json()["credit_notes"][0]["invoice"] == inv["number"]
    r = c.post(f"/api/v1/orders/{number}/returns", headers=basic("sally"),
               json={"lines": [{"line": 2, "qty": 1, "reason": "wrong_item", "outcome": "replace"}]})
    assert r.status_code == 201 and r.get_json()["return"]["number"] != rma
    got = c.get(f"/api/v1/orders/{number}/returns", headers=basic("rita")).get_json()
    assert [x["status"] for x in got["returns"]] == ["resolved", "requested"]
    r = c.post(f"/api/v1/orders/{number}/returns/{rma}/dance", headers=basic("bill"))
    assert r.status_code == 400


def test_a_return_waiting_past_its_stage_limit_is_escalated_to_the_warehouse(fulfil, new_customer, new_sku, agent,
                                                                            acl_entries, admin_db):
    import datetime as dt

    from oms import agents
    from oms.agents import AgentContext
    from oms.core import clock, rules

    order, _, _, _, _ = delivered_and_invoiced(fulfil, new_customer, new_sku)
    order = fulfil("sally").returns().request(order["number"], [{"line": 1, "qty": 1, "reason": "faulty",
                                                                 "outcome": "refund"}])
    limit = rules.workflow()["states"]["return_requested"]["limit_hours"]
    since = clock.parse(order["updated_at"])

    def escalate(hours: float) -> dict:
        ctx = AgentContext(db=agent.db, access=agent.access, clock=clock.fixed(since + dt.timedelta(hours=hours)),
                           directory=None, smtp=None, acl_entries=acl_entries)
        agents.run_agent(ctx, "escalation")
        return admin_db.get(order["_id"])

    assert not escalate(limit - 1).get("escalation")               # within the limit
    late = escalate(limit + 1)
    assert late["escalation"]["stage"] == "return_requested" and late["status"] == "return_requested"
    notes = admin_db.find({"type": "notification", "kind": "escalation", "order": order["number"]}, limit=5)["docs"]
    assert [n["to"] for n in notes] == [["[Warehouse]"]]
