"""A partner's order reaches the customer with no manual step: it arrives at the centre submitted
and is placed as the centre's own orders are (credit, priority, availability, reservation),
deciding from the centre's own data: an order for a customer the partner may not order for is
cancelled with the reason, a customer's name typed differently is the centre's; the outcome flows
back to the partner's pages. Then the centre's people ship it and invoice it."""
from __future__ import annotations

import copy
import uuid

import pytest

from tests.viewdata import product_doc, repriced

from .conftest import eventually


@pytest.fixture
def stocked_sku(central_admin):
    sku = f"PI-{uuid.uuid4().hex[:6].upper()}"
    central_admin.save({"_id": f"stock:{sku}:MAIN", "type": "stock", "sku": sku, "warehouse": "MAIN",
                        "on_hand": 50, "reserved": 0, "holds": {}})
    central_admin.save(product_doc(sku, {"EUR": 450}))
    return sku


def arrived(central_admin, doc_id):
    return eventually(lambda: central_admin.get_or_none(doc_id), what=f"{doc_id} reaches the centre")


def test_a_partner_order_is_placed_at_once_and_the_outcome_reaches_the_partner(
        partner_service, central_admin, agent, stocked_sku, rserver):
    alice = partner_service("alice@acme")
    placed = alice.place({"customer": "ACME-01", "lines": [{"sku": stocked_sku, "qty": 4, "unit_price": "4.50"}]})
    arrived(central_admin, placed["_id"])
    outcome = [o for o in agent.run_once()["placed"] if o["number"] == placed["number"]]
    assert outcome and outcome[0]["outcome"] == "placed"
    central = central_admin.get(placed["_id"])
    assert central["status"] == "allocated", central["history"]
    assert central["allocations"] == [{"line": 1, "sku": stocked_sku, "warehouse": "MAIN", "qty": 4}]
    assert central_admin.get(f"stock:{stocked_sku}:MAIN")["holds"] == {f"{placed['number']}/1": 4}
    assert [h["by"] for h in central["history"][1:]] == ["oms-agent", "oms-agent"]
    eventually(lambda: alice.order(placed["number"])["status"] == "allocated",
               what="the partner sees its order allocated")
    assert agent.run_once()["placed"] == []          # looked at once


def spoofed(alice, placed_for_template, **changes) -> dict:
    """An order written straight into the partner's database, past the app's checks."""
    doc = copy.deepcopy(placed_for_template)            # the partner's own first revision of an order
    number = f"SO-ACME-8{uuid.uuid4().int % 10**7:07d}"
    doc.pop("_rev", None)
    doc.update(_id=f"order:{number}", number=number, **changes)
    return alice.db.save(doc)


def test_an_order_for_a_customer_the_partner_may_not_order_for_is_refused_and_the_partner_reads_why(
        partner_service, central_admin, agent, stocked_sku):
    alice = partner_service("alice@acme")
    template = alice.place({"customer": "ACME-01", "lines": [{"sku": stocked_sku, "qty": 1, "unit_price": "4.50"}]})
    bad = spoofed(alice, template, customer={"id": "customer:GLOBEX-01", "name": "Globex (via Acme)"})
    arrived(central_admin, bad["_id"])
    outcome = {o["number"]: o for o in agent.run_once()["placed"]}[bad["number"]]
    assert outcome["outcome"] == "refused" and "GLOBEX-01 is not one of acme's customers" in outcome["reason"]
    central = central_admin.get(bad["_id"])
    assert central["status"] == "cancelled" and "allocations" not in central
    assert central_admin.get(f"stock:{stocked_sku}:MAIN")["holds"].get(f"{bad['number']}/1") is None
    back = eventually(lambda: (alice.order(bad["number"]) or {}).get("status") == "cancelled" and alice.order(bad["number"]),
                      what="the partner sees the refusal")
    assert "not one of acme's customers" in back["history"][-1]["reason"]


def test_an_order_written_at_a_price_of_the_partners_own_is_refused_with_the_centres_price(
        partner_service, central_admin, agent, stocked_sku):
    alice = partner_service("alice@acme")
    template = alice.place({"customer": "ACME-01", "lines": [{"sku": stocked_sku, "qty": 2}]})
    assert template["lines"][0]["unit_price_cents"] == 450          # the partner's pages use the centre's price
    cheap = repriced(copy.deepcopy(template), 0, 1)                  # 1 cent, every sum made to add up
    bad = spoofed(alice, cheap)
    arrived(central_admin, bad["_id"])
    outcome = {o["number"]: o for o in agent.run_once()["placed"]}[bad["number"]]
    assert outcome["outcome"] == "refused"
    assert outcome["reason"] == (f"The centre refused this order: line 1 ({stocked_sku}) is priced 0.01; the centre's "
                                 f"price for Road Runner Supplies is 4.50.")
    assert central_admin.get(bad["_id"])["status"] == "cancelled"
    assert central_admin.get(f"stock:{stocked_sku}:MAIN")["holds"].get(f"{bad['number']}/1") is None
    back = eventually(lambda: (alice.order(bad["number"]) or {}).get("status") == "cancelled" and alice.order(bad["number"]),
                      what="the partner sees the refusal")
    assert "the centre's price for Road Runner Supplies is 4.50" in back["history"][-1]["reason"]


def test_a_partners_customers_get_the_partners_price_list_at_both_ends(partner_service, central_admin, agent):
    alice = partner_service("alice@acme")
    placed = alice.place({"customer": "ACME-01", "lines": [{"sku": "WID-100", "qty": 2, "unit_price": "0.01"}]})
    line = placed["lines"][0]
    assert (line["unit_price_cents"], line["price_source"]) == (410, "pricelist:ACME-PARTNER")   # the typed price is not hers to set
    arrived(central_admin, placed["_id"])
    outcome = {o["number"]: o for o in agent.run_once()["placed"]}[placed["number"]]
    assert outcome["outcome"] == "placed"
    assert central_admin.get(placed["_id"])["lines"][0]["unit_price_cents"] == 410


def test_the_customers_name_is_the_centres_whatever_the_partner_typed(partner_service, central_admin, agent, stocked_sku):
    alice = partner_service("alice@acme")
    template = alice.place({"customer": "ACME-01", "lines": [{"sku": stocked_sku, "qty": 1, "unit_price": "4.50"}]})
    odd = spoofed(alice, template, customer={"id": "customer:ACME-01", "name": "Someone Else Entirely"})
    arrived(central_admin, odd["_id"])
    agent.run_once()
    central = central_admin.get(odd["_id"])
    assert central["customer"]["name"] == "Road Runner Supplies"
    assert central["status"] == "allocated"
    assert any(h["action"] == "edit" for h in central["history"])


def test_a_partner_order_reaches_shipped_and_invoiced_with_only_the_centres_people_doing_their_jobs(
        partner_service, central_admin, agent, stocked_sku, rapp):
    import base64
    alice = partner_service("alice@acme")
    placed = alice.place({"customer": "ACME-01", "lines": [{"sku": stocked_sku, "qty": 3, "unit_price": "4.50"}]})
    arrived(central_admin, placed["_id"])
    agent.run_once()                                             # the centre places it: allocated
    api = rapp.test_client()

    def as_(name, method, path, **kw):
        auth = {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}
        return getattr(api, method)(path, headers=auth, **kw)
    n = placed["number"]
    assert as_("wanda", "post", f"/api/v1/orders/{n}/actions", json={"action": "pick"}).status_code == 200
    shipped = as_("sam", "post", f"/api/v1/orders/{n}/shipments", json={"carrier": "DHL", "tracking": "JD0042"})
    assert shipped.status_code == 201, shipped.get_json()
    invoiced = as_("bill", "post", f"/api/v1/orders/{n}/actions", json={"action": "invoice"})
    assert invoiced.status_code == 200, invoiced.get_json()
    central = central_admin.get(placed["_id"])
    assert central["status"] == "invoiced" and central["lines"][0]["shipped_qty"] == 3
    assert central_admin.get(f"stock:{stocked_sku}:MAIN")["on_hand"] == 47
    eventually(lambda: alice.order(n)["status"] == "invoiced", what="the partner sees its order invoiced")
