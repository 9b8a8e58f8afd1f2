"""validate_doc_update refuses malformed orders written straight to the server, as the person
(not through the app), with a sentence a person can read."""
import copy

import pytest

from oms.couch import Forbidden
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
    from oms import people
    access, db = people.as_system(server, settings.secret_key, settings.db_name, acl_entries)
    assert access.name == "oms-agent" and access.level == "editor"
    with pytest.raises(Forbidden, match="Only a Manager may change the ACL"):
        acl = db.get("acl")
        db.save(acl)
