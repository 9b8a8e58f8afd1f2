"""Credit on the real server: a submitted order that would push the customer over the limit goes
to credit_hold (decided by the system identity, with the sentence why); Credit approves or
rejects with a reason; a Manager's override is kept in the history and on the order; within the
limit the order is approved and allocated at once."""
from __future__ import annotations

import pytest

from oms.core.errors import InvalidInput
from oms.store.couch import Forbidden
from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401


def place(fulfil, customer, sku, qty, price="100.00", **more):
    return fulfil("sally").create({"customer": customer, "status": "submitted",
                                   "lines": [line(sku, qty, price)], **more})


def test_an_order_within_the_limit_is_approved_and_allocated_by_the_system(fulfil, new_customer, new_sku):
    customer = new_customer(credit_limit_cents=100_000, open_balance_cents=20_000)
    sku = new_sku(10)
    doc = place(fulfil, customer, sku, 2)  # 200.00: 200 + 200 <= 1000
    assert doc["status"] == "allocated"
    assert [h["by"] for h in doc["history"]] == ["sally", "oms-agent", "oms-agent"]
    assert [h["action"] for h in doc["history"]] == ["create", "approve", "allocate"]
    assert doc["credit"]["decision"] == "auto_approved" and doc["credit"]["exposure_cents"] == 40_000


def test_an_order_over_the_limit_goes_to_credit_hold_with_the_reason(fulfil, new_customer, new_sku):
    customer = new_customer(credit_limit_cents=100_000, open_balance_cents=60_000)
    sku = new_sku(10)
    doc = place(fulfil, customer, sku, 5)  # 600 + 500 > 1000
    assert doc["status"] == "credit_hold"
    last = doc["history"][-1]
    assert (last["by"], last["action"]) == ("oms-agent", "hold_credit")
    assert "exceeds the credit limit 1,000.00" in last["reason"]
    assert doc["credit"]["result"] == "hold" and "allocations" not in doc


def test_open_orders_count_toward_the_limit(fulfil, new_customer, new_sku):
    customer = new_customer(credit_limit_cents=100_000)
    sku = new_sku(100)
    first = place(fulfil, customer, sku, 6)   # 600: fine
    second = place(fulfil, customer, sku, 5)  # 600 open + 500 > 1000
    assert (first["status"], second["status"]) == ("allocated", "credit_hold")
    assert second["credit"]["open_orders_cents"] == 60_000


@pytest.mark.parametrize("profile,needle", [
    ({"credit_hold": True}, "on credit hold in the CRM"),
    ({"days_late": 120}, "pays 120 days late"),
])
def test_a_customer_on_hold_or_paying_late_sends_every_order_to_credit_hold(fulfil, new_customer, new_sku, profile, needle):
    doc = place(fulfil, new_customer(**profile), new_sku(10), 1, price="1.00")
    assert doc["status"] == "credit_hold" and needle in doc["history"][-1]["reason"]


def test_credit_approves_a_held_order_only_with_a_reason_then_it_is_allocated(fulfil, new_customer, new_sku):
    customer = new_customer(credit_limit_cents=10_000)
    sku = new_sku(10)
    held = place(fulfil, customer, sku, 3)
    carl = fulfil("carl")
    with pytest.raises(InvalidInput, match="needs a reason"):
        carl.act(held["number"], "approve")
    doc = carl.act(held["number"], "approve", reason="paid in advance by wire")
    assert doc["status"] == "allocated"
    approve = doc["history"][-2]
    assert (approve["by"], approve["action"], approve["reason"]) == ("carl", "approve", "paid in advance by wire")
    assert doc["credit"]["decision"] == "approved" and doc["credit"]["decided_by"] == "carl"


def test_the_database_refuses_approving_a_held_order_without_a_reason(person, fulfil, new_customer, new_sku):
    from oms.ordering import workflow
    held = place(fulfil, new_customer(credit_limit_cents=10_000), new_sku(10), 3)
    access, db = person("carl")
    new = workflow.apply(access, held, "approve", "2026-11-25T10:00:00Z")
    with pytest.raises(Forbidden, match="needs a reason"):
        db.save(new)


def test_credit_rejects_with_a_reason_and_the_order_is_cancelled(fulfil, new_customer, new_sku):
    held = place(fulfil, new_customer(credit_limit_cents=10_000), new_sku(10), 3)
    doc = fulfil("carl").act(held["number"], "reject_credit", reason="no payment for 4 months")
    assert doc["status"] == "cancelled" and doc["cancel_reason"] == "no payment for 4 months"
    assert doc["credit"]["decision"] == "rejected"


def test_a_manager_override_is_recorded_in_the_history_and_on_the_order(fulfil, new_customer, new_sku):
    held = place(fulfil, new_customer(credit_limit_cents=10_000), new_sku(10), 3)
    with pytest.raises(Forbidden):
        fulfil("carl").act(held["number"], "override_credit", reason="I say so")  # Credit is not a Manager
    with pytest.raises(InvalidInput, match="needs a reason"):
        fulfil("mia").act(held["number"], "override_credit")
    doc = fulfil("mia").act(held["number"], "override_credit", reason="strategic account, CFO agreed")
    assert doc["status"] == "allocated"
    trail = [h for h in doc["history"] if h["action"] == "override_credit"]
    assert len(trail) == 1
    assert (trail[0]["by"], trail[0]["from"], trail[0]["to"], trail[0]["reason"]) == \
        ("mia", "credit_hold", "approved", "strategic account, CFO agreed")
    override = doc["credit"]["override"]
    assert override["by"] == "mia" and override["reason"] == "strategic account, CFO agreed"
    assert "exceeds the credit limit" in override["held_for"][0]


def test_the_order_page_shows_the_credit_decision_and_asks_credit_for_a_reason(web, fulfil, new_customer, new_sku):
    held = place(fulfil, new_customer(credit_limit_cents=10_000), new_sku(10), 3)
    web.login("carl")
    html = web.get(f"/orders/{held['number']}").get_data(as_text=True)
    assert "exceeds the credit limit" in html and "Decision: <strong>held</strong>" in html
    # the approve button on a held order comes with a reason box (rules/priority.json)
    assert 'aria-label="Reason for Approve credit"' in html
    r = web.post(f"/orders/{held['number']}/act", {"action": "approve", "reason": "prepaid", "rev": held["_rev"]},
                 csrf_from=f"/orders/{held['number']}")
    assert r.status_code == 303
    assert "prepaid" in web.get(f"/orders/{held['number']}").get_data(as_text=True)


def test_orders_placed_at_once_in_one_process_never_pass_the_limit_together(fulfil, new_customer, new_sku):
    """Credit decisions for one customer take turns in a process: eight orders of 300.00 placed at
    the same moment against a limit of 1,000.00 leave exactly three approved."""
    import threading
    customer, sku = new_customer(credit_limit_cents=100_000), new_sku(100)
    placed, gate = [], threading.Barrier(8)

    def place_one():
        service = fulfil("sally")
        gate.wait()
        placed.append(place(lambda name: service, customer, sku, 3))

    threads = [threading.Thread(target=place_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(o["status"] for o in placed)
    assert statuses == ["allocated"] * 3 + ["credit_hold"] * 5, statuses


def test_the_credit_box_is_an_alarm_only_while_the_decision_waits(fulfil, new_customer, new_sku, web):
    held = fulfil("sally").create({"customer": new_customer("gold", credit_limit_cents=1_000), "status": "submitted",
                                   "lines": [line(new_sku(10), 2, "10.00")]})
    assert held["status"] == "credit_hold"
    web.login("carl")

    def box():
        page = web.get(f"/orders/{held['number']}").get_data(as_text=True)
        return page.split('<div class="box credit-box', 1)[1].split("</div>", 1)[0]
    waiting = box()
    assert "credit-ok" not in waiting.split(">", 1)[0]
    assert 'class="bad"' in waiting and "Over the rules:" in waiting
    fulfil("carl").act(held["number"], "approve", reason="paid up front")
    decided = box()
    assert decided.startswith(' credit-ok"') and 'class="bad"' not in decided and "Over the rules when checked" in decided
