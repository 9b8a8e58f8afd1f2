"""A write that lost a race is a Conflict (reload, decide again) on every server: PouchDB Server
validates a stale order write against the current revision and answers 403 ("History entries
cannot be edited ..."), CouchDB 3 answers 409; the repository (oms.store.couch.Database.save) makes
both a Conflict."""
import pytest

from oms.ordering import workflow
from oms.ordering.orders import OrderService
from oms.store.couch import Conflict, Forbidden
from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401


def test_a_stale_order_write_is_a_conflict_not_a_rule_broken(fulfil, new_customer, new_sku):
    sally = fulfil("sally")
    order = sally.create({"customer": new_customer(), "lines": [line(new_sku(1), 1)]})
    stale = workflow.apply(sally.access, order, "edit", "2026-11-25T10:00:01Z", changes={"notes": "mine"})
    sally.plain().act(order["number"], "edit", changes={"notes": "theirs"})  # someone else was first

    class Late(OrderService):  # writes the revision it decided on before the other write landed
        def act(self, number, action, reason=None, changes=None, rev=None):
            return self.db.save(dict(stale))

    late = Late(sally.db, sally.access, sally.numbers)
    with pytest.raises(Conflict):
        late.act(order["number"], "edit", rev=order["_rev"])


def test_a_rule_really_broken_stays_forbidden(fulfil, new_customer, new_sku):
    order = fulfil("sally").create({"customer": new_customer(), "lines": [line(new_sku(1), 1)]})
    with pytest.raises(Forbidden, match=r"Only \[Sales\]"):
        fulfil("sam").plain().act(order["number"], "submit", rev=order["_rev"])
