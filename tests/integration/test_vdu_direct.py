"""validate_doc_update refuses malformed orders written straight to the server, as the person
(not through the app), with a sentence a person can read."""
import copy

import pytest

from oms.store.couch import Forbidden
from tests.unit.test_schema_parity import GOOD


def order(number, **changes):
    doc = copy.deepcopy(GOOD)
    doc.update(_id=f"order:{number}", number=number, **changes)
    return doc


def test_a_well_formed_order_written_directly_is_accepted(person):
    _, db = person("sally")
    saved = db.save(order("SO-900001"))
    assert saved["_rev"].startswith("1-")


@pytest.mark.parametrize("change,reason", [
    ({"lines": []}, "lines needs at least 1 item"),
    ({"status": "teleported"}, "status must be one of"),
    ({"totals": {"net_cents": 1, "qty": 3}}, "totals.net_cents must be the sum of the lines = 3750"),
    ({"customer": {"id": "customer:C0001"}}, "customer.name is required"),
    ({"priority": "high"}, "priority must be a whole number from 1 to 5"),
    # "*" is how views file what everyone may read, never a reader's name: such an order showed in
    # everyone's views and then opened for nobody
    ({"readers": ["*"]}, 'readers[0] must be text like "[Sales]", not "*"'),
    ({"authors": ["*"]}, 'authors[0] must be text like "[Sales]", not "*"'),
])
def test_malformed_orders_are_refused_by_the_server(person, change, reason):
    _, db = person("sally")
    with pytest.raises(Forbidden) as err:
        db.save(order("SO-900002", **change))
    assert reason in err.value.reason
    assert err.value.reason.startswith("Invalid order:")


def test_an_order_cannot_claim_someone_elses_name(person):
    _, db = person("sally")
    with pytest.raises(Forbidden, match="created_by must be you"):
        db.save(order("SO-900003", created_by="mia"))


def test_a_new_order_cannot_start_shipped(person):
    _, db = person("sally")
    doc = order("SO-900004", status="shipped")
    doc["history"][0]["to"] = "shipped"
    with pytest.raises(Forbidden, match="starts as draft or submitted"):
        db.save(doc)


def test_unknown_document_types_are_refused(person):
    _, db = person("sally")
    with pytest.raises(Forbidden, match="Unknown document type"):
        db.save({"_id": "thing:1", "type": "thing"})


def test_the_system_identity_is_an_ordinary_acl_entry_not_an_admin(server, settings, acl_entries):
    from oms.identity import people
    access, db = people.as_system(server, settings.secret_key, settings.db_name, acl_entries, settings.namespace)
    assert access.name == "oms-agent" and access.level == "editor"
    with pytest.raises(Forbidden, match="Only a Manager may change the ACL"):
        acl = db.get("acl")
        db.save(acl)


# -- the order-number counter: whoever may create orders moves it forward, within bounds ----------
def counter_now(db) -> dict:
    return db.get("counter:order")


def test_a_reader_may_not_move_the_order_counter(person, service):
    service("sally").numbers.next(person("sally")[1])          # the counter exists
    _, rita = person("rita")
    with pytest.raises(Forbidden, match="As Reader you may not number orders"):
        rita.save(dict(counter_now(rita), value=counter_now(rita)["value"] + 1))


@pytest.mark.parametrize("value, reason", [
    (1e300, "value must be a whole number from 0 to 1000000000000"),
    (-1, "value must be a whole number from 0"),
    ("12", "value must be a whole number"),
])
def test_a_counter_value_out_of_bounds_is_refused(person, value, reason):
    _, db = person("sally")
    with pytest.raises(Forbidden, match=reason):
        db.save(dict(counter_now(db), value=value))


def test_the_counter_moves_forward_by_at_most_a_hundred_thousand_and_may_be_written_again_as_it_is(person):
    _, db = person("sally")
    current = counter_now(db)
    with pytest.raises(Forbidden, match="moves at most 100000 numbers"):
        db.save(dict(current, value=current["value"] + 100_001))
    with pytest.raises(Forbidden, match="only moves forward"):
        db.save(dict(current, value=current["value"] - 1))
    again = db.save(dict(current))                      # the same value: how a cluster settles it
    assert again["value"] == current["value"] and again["_rev"] != current["_rev"]


def test_the_counter_cannot_be_deleted_back_to_zero(person, admin_db):
    _, carl = person("carl")                              # an Editor: may delete documents
    current = counter_now(carl)
    with pytest.raises(Forbidden, match="value is required|value must be"):
        carl.delete("counter:order", current["_rev"])    # a bare deletion forgets the value: refused
    assert counter_now(admin_db)["_rev"] == current["_rev"]
