"""Order entry keeps customer profiles a few seconds per process (oms.core.memories PROFILE_SECONDS), as
every order reads one; what decides money reads afresh: an order placed as submitted is credit-
checked on the profile as it is now, and this process's own profile changes are seen at once."""
from __future__ import annotations

import time

from oms.core import memories
from oms.crm.customers import CustomerService
from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401


def _profile_written_elsewhere(agent, ext: str, **changes) -> None:
    """Another process's write (a CRM feed on another node): straight to the database."""
    doc = agent.db.get(f"customer:{ext}")
    agent.db.save({**doc, **changes})


def test_a_credit_hold_set_elsewhere_stops_the_next_submitted_order_at_once(fulfil, agent, new_customer, new_sku):
    customer, sku = new_customer(), new_sku(10)
    sally = fulfil("sally")
    first = sally.create({"customer": customer, "status": "submitted", "lines": [line(sku, 1, "1.00")]})
    assert first["status"] == "allocated"   # the profile is now in this process's cache
    _profile_written_elsewhere(agent, customer, credit_hold=True)
    second = sally.create({"customer": customer, "status": "submitted", "lines": [line(sku, 1, "1.00")]})
    assert second["status"] == "credit_hold"
    assert "on credit hold in the CRM" in second["history"][-1]["reason"]


def test_a_draft_may_show_a_profile_a_moment_old_then_the_new_one(fulfil, agent, new_customer, new_sku, monkeypatch):
    monkeypatch.setattr(memories.profiles, "ttl", 0.5)   # PROFILE_SECONDS, shortened for the test
    customer, sku = new_customer(name="Old Name Ltd"), new_sku(10)
    sally = fulfil("sally")
    assert sally.create({"customer": customer, "lines": [line(sku, 1, "1.00")]})["customer"]["name"] == "Old Name Ltd"
    _profile_written_elsewhere(agent, customer, name="New Name Ltd")
    assert sally.create({"customer": customer, "lines": [line(sku, 1, "1.00")]})["customer"]["name"] == "Old Name Ltd"
    time.sleep(0.6)
    assert sally.create({"customer": customer, "lines": [line(sku, 1, "1.00")]})["customer"]["name"] == "New Name Ltd"


def test_a_profile_changed_in_this_process_is_seen_by_the_next_order_at_once(fulfil, agent, new_customer, new_sku):
    customer, sku = new_customer(name="Before Ltd"), new_sku(10)
    sally = fulfil("sally")
    assert sally.create({"customer": customer, "lines": [line(sku, 1, "1.00")]})["customer"]["name"] == "Before Ltd"
    CustomerService(agent.db, agent.access).upsert(customer, {"name": "After Ltd"})
    assert sally.create({"customer": customer, "lines": [line(sku, 1, "1.00")]})["customer"]["name"] == "After Ltd"
