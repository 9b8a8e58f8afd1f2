"""Each customer buys in one currency: their orders are in it, their credit exposure is summed in
it, and their currency changes only when no order of theirs still counts against the limit."""
from __future__ import annotations

import pytest

from oms.core.errors import InvalidInput
from oms.crm.customers import CustomerService, exposure_by_customer
from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401


def test_exposure_is_summed_in_the_customers_currency_only(fulfil, new_customer, new_sku, agent):
    gbp = new_customer(currency="GBP", credit_limit_cents=1_000_000)
    sku = new_sku(100)
    sally = fulfil("sally")
    doc = sally.create({"customer": gbp, "status": "submitted", "lines": [line(sku, 2, "30.00")]})
    assert doc["currency"] == "GBP" and doc["status"] == "allocated"
    cid = doc["customer"]["id"]
    assert exposure_by_customer(agent.db, {cid: "GBP"}) == {cid: 6000}
    assert exposure_by_customer(agent.db, {cid: "EUR"}) == {cid: 0}
    with pytest.raises(InvalidInput, match="buys in GBP: an order of theirs cannot be in EUR"):
        sally.create({"customer": gbp, "currency": "EUR", "status": "submitted", "lines": [line(sku, 1, "1.00")]})


def test_a_customers_currency_changes_only_once_no_order_of_theirs_counts(fulfil, new_customer, new_sku, agent):
    ext = new_customer(currency="EUR", credit_limit_cents=1_000_000)
    crm = CustomerService(agent.db, agent.access)
    doc = fulfil("sally").create({"customer": ext, "status": "submitted", "lines": [line(new_sku(10), 1, "5.00")]})
    with pytest.raises(InvalidInput, match="has open orders in EUR: their currency can change to USD once"):
        crm.upsert(ext, {"currency": "USD"})
    assert crm.get(ext)["currency"] == "EUR"
    fulfil("mia").act(doc["number"], "cancel", reason="customer moved to USD")
    assert crm.upsert(ext, {"currency": "USD"})[0] == "updated"
