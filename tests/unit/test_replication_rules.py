"""What a partner may change, decided by the real design JavaScript (run under node): the central
validate_doc_update (lib/validate_partner), the partner copy's own validation, the branch's, and
the replication filters, which must agree with rules/replication.json."""
import copy

import pytest

from oms.core import rules
from replication import design
from replication.partners import PartnerPerson
from tests import designjs
from tests.unit.test_schema_parity import GOOD

ACME_REPLICATOR = {"name": "oms-partner-acme", "roles": ["level:reader", "oms-replicator", "partner:acme"]}
AT = "2026-11-25T10:00:00Z"


def partner_order(number="SO-ACME-000001", **changes):
    doc = copy.deepcopy(GOOD)
    doc.update(_id=f"order:{number}", number=number, status="submitted", partner="acme",
               created_by="alice@acme", updated_by="alice@acme", authors=["alice@acme", "[Sales]"],
               history=[{"at": AT, "by": "alice@acme", "action": "create", "from": None, "to": "submitted"}])
    doc.update(changes)
    return doc


def edited(old, by="alice@acme", action="edit", to=None, rev_start=None, **fields):
    new = copy.deepcopy(old)
    new.update(fields)
    new["updated_by"] = by
    new["status"] = to or old["status"]
    entry = {"at": AT, "by": by, "action": action, "from": old["status"], "to": new["status"]}
    if action == "cancel":
        entry["reason"] = fields.get("cancel_reason", "")
    new["history"] = old["history"] + [entry]
    if rev_start:
        new["_revisions"] = {"start": rev_start, "ids": ["c"] * rev_start}
    return new


def central(new, old=None, user=ACME_REPLICATOR):
    return designjs.validate(new, old, user["name"], user["roles"])


def test_a_new_partner_order_arriving_as_submitted_is_accepted():
    assert central(partner_order()) == {"ok": True}


@pytest.mark.parametrize("change,reason", [
    ({"status": "approved"}, "starts with one history entry"),
    ({"number": "SO-000777", "_id": "order:SO-000777"}, "is numbered SO-ACME-000001 and up"),
    ({"allocations": [{"line": 1, "sku": "WID-100", "warehouse": "MAIN", "qty": 3}]}, "Only the centre sets allocations"),
    ({"created_by": "gus@globex"}, "created_by must name one of acme's people"),
    ({"partner": "globex"}, 'must carry partner: "acme"'),
])
def test_a_new_partner_order_breaking_the_rules_is_refused(change, reason):
    doc = partner_order()
    doc.update(change)
    if "status" in change:
        doc["history"][0]["to"] = change["status"]
    assert reason in central(doc)["forbidden"]


def test_a_partner_may_change_notes_while_submitted_but_never_prices():
    old = partner_order()
    old["_rev"] = "1-a"
    assert central(edited(old, notes="gate 4"), old) == {"ok": True}
    cheaper = edited(old)
    cheaper["lines"][0].update(unit_price_cents=1, amount_cents=3)
    cheaper["totals"]["net_cents"] = 3
    assert "may not change lines of an order that is Submitted (only notes, promised_date, ship_to)" in \
        central(cheaper, old)["forbidden"]
    assert "may not change priority" in central(edited(old, priority=1), old)["forbidden"]


def test_a_partner_may_not_change_an_approved_order_and_cancels_only_with_a_reason():
    old = partner_order(status="approved")
    old["history"].append({"at": AT, "by": "carl", "action": "approve", "from": "submitted", "to": "approved"})
    assert "may not change an order that is Approved" in central(edited(old, notes="x"), old)["forbidden"]
    sub = partner_order()
    assert central(edited(sub, action="cancel", to="cancelled", cancel_reason="not needed"), sub) == {"ok": True}
    assert "needs a reason" in central(edited(sub, action="cancel", to="cancelled"), sub)["forbidden"]


def test_several_partner_revisions_may_arrive_at_once_with_one_entry_each():
    old = partner_order()
    old["_rev"] = "1-a"
    two = edited(edited(old, notes="one"), notes="two", rev_start=3)
    assert central(two, old) == {"ok": True}
    sneaky = edited(old, notes="one")
    sneaky["history"].append(dict(sneaky["history"][-1]))
    assert "each change appends exactly one entry" in central(sneaky, old)["forbidden"]


def test_the_centres_restore_of_a_refused_change_arrives_as_a_write_that_changes_nothing():
    old = partner_order()
    old["_rev"] = "1-a"
    same = dict(copy.deepcopy(old), _rev="3-c", _revisions={"start": 3, "ids": ["c", "b", "a"]})
    assert central(same, old) == {"ok": True}
    assert "may not delete" in central({"_id": old["_id"], "_deleted": True}, old)["forbidden"]


def test_partners_send_only_orders_comments_and_receipts_of_their_own():
    assert "may send order, comment, receipt" in central({"_id": "customer:X", "type": "customer", "partner": "acme",
                                                          "name": "X"})["forbidden"]
    comment = {"_id": "comment:1", "type": "comment", "parent": "order:SO-ACME-000001", "text": "hi",
               "by": "alice@acme", "at": AT, "partner": "acme"}
    assert central(comment) == {"ok": True}
    assert "by must name one of acme's people" in central(dict(comment, by="sally"))["forbidden"]
    assert "cannot be changed once sent" in central(dict(comment, text="edited"), comment)["forbidden"]


def test_partner_people_and_staff_cannot_use_the_partner_paths_centrally():
    alice = {"name": "alice@acme", "roles": ["partner:acme", "partner-level:author"]}
    assert "work in their own database" in central(partner_order(), user=alice)["forbidden"]
    doc = copy.deepcopy(GOOD)
    doc.update(_id="order:SO-ACME-000009", number="SO-ACME-000009")
    assert "belong to a partner's orders" in designjs.validate(doc, None, "sally", ["level:author", "[Sales]"])["forbidden"]
    assert designjs.validate(doc, None, "admin", ["_admin"]) == {"ok": True}


# -- the partner's own copy ------------------------------------------------------------------------------

def in_copy(new, old, name, roles):
    ddoc = design.partner_design("acme")
    return designjs.run([{"kind": "validate", "newDoc": new, "oldDoc": old,
                          "userCtx": {"name": name, "roles": roles, "db": "partner_acme"}}], design=ddoc)[0]


AUTHOR = ["partner:acme", "partner-level:author"]


def test_the_partner_copy_accepts_its_peoples_own_edits_even_those_the_centre_refuses():
    old = partner_order()
    cheaper = edited(old)
    cheaper["lines"][0].update(unit_price_cents=1, amount_cents=3)
    assert in_copy(partner_order(), None, "alice@acme", AUTHOR) == {"ok": True}
    assert in_copy(cheaper, old, "alice@acme", AUTHOR) == {"ok": True}


@pytest.mark.parametrize("name,roles,new,old,reason", [
    ("gus@globex", ["partner:globex", "partner-level:author"], partner_order(), None, "Only acme's people"),
    ("bob@acme", AUTHOR, partner_order(), None, "created_by must be you"),
    ("rita@acme", ["partner:acme", "partner-level:reader"], partner_order(), None, "As Reader you may not place orders"),
    ("dora@acme", ["partner:acme", "partner-level:depositor"],
     {"_id": "comment:2", "type": "comment", "partner": "acme", "by": "dora@acme", "parent": "order:X", "text": "t"},
     None, "As Depositor you may not comment"),
    ("alice@acme", AUTHOR, {"_id": "order:SO-ACME-000001", "_deleted": True}, partner_order(), "Nothing is deleted"),
    ("alice@acme", AUTHOR, partner_order("SO-000001"), None, "numbered SO-ACME-000001 and up"),
])
def test_the_partner_copy_refuses_what_is_not_its_peoples_own(name, roles, new, old, reason):
    assert reason in in_copy(new, old, name, roles)["forbidden"]


def test_the_partner_copy_keeps_its_peoples_own_idempotency_records():
    # The partner API takes an Idempotency-Key; its record lives in the copy, whose rules must
    # accept it, else every create with a key would be a 403.
    rec = {"_id": "idem:abc", "type": "idem", "partner": "acme", "by": "alice@acme", "fingerprint": "f1"}
    done = dict(rec, response={"status": 201})
    assert in_copy(rec, None, "alice@acme", AUTHOR) == {"ok": True}
    assert in_copy(done, rec, "alice@acme", AUTHOR) == {"ok": True}
    assert "by must be you" in in_copy(dict(rec, by="bob@acme"), None, "alice@acme", AUTHOR)["forbidden"]
    assert "keeps its request" in in_copy(dict(done, fingerprint="f2"), rec, "alice@acme", AUTHOR)["forbidden"]
    assert "by must be you" in in_copy(dict(done, by="bob@acme"), dict(rec, by="bob@acme"), "alice@acme",
                                       AUTHOR)["forbidden"]
    assert 'carries partner: "acme"' in in_copy(dict(rec, partner=None), None, "alice@acme", AUTHOR)["forbidden"]
    assert not run_filter(design.partner_design("acme"), "to_centre", rec, {"partner": "acme"})  # stays here


def test_the_centre_writes_anything_into_the_partner_copy():
    assert in_copy({"_id": "rejection:x", "type": "rejection", "partner": "acme"}, None,
                   "oms-partner-acme", ACME_REPLICATOR["roles"]) == {"ok": True}


# -- filters and the branch --------------------------------------------------------------------------

def run_filter(ddoc, name, doc, query):
    return designjs.run([{"kind": "filter", "filter": name, "doc": doc, "query": query}], design=ddoc)[0]["value"]


def test_the_filters_send_exactly_what_the_rulebook_says():
    sends = rules.rules()["replication"]["partners"]["sends"]
    pdoc = design.partner_design("acme")
    for doc_type in ("order", "comment", "receipt", "rejection", "counter", "customer", "shipment", "idem"):
        doc = {"_id": f"{doc_type}:1", "type": doc_type, "partner": "acme"}
        assert run_filter(pdoc, "to_centre", doc, {"partner": "acme"}) == (doc_type in sends), doc_type
    central_ddoc = designjs.ddoc()
    assert run_filter(central_ddoc, "by_partner", {"_id": "order:1", "partner": "acme"}, {"partner": "acme"})
    assert not run_filter(central_ddoc, "by_partner", {"_id": "order:2", "partner": "globex"}, {"partner": "acme"})
    assert not run_filter(central_ddoc, "by_partner", {"_id": "order:3"}, {})
    assert not run_filter(central_ddoc, "site_pull", {"_id": "counter:order"}, {})
    assert run_filter(central_ddoc, "site_pull", {"_id": "_design/oms"}, {})
    site = design.site_design()
    assert not run_filter(site, "to_centre", {"_id": "_design/site"}, {})
    assert not run_filter(site, "to_centre", {"_id": "counter:order"}, {})
    assert run_filter(site, "to_centre", {"_id": "order:SO-000001"}, {})


def test_a_branch_refuses_to_allocate_stock_or_change_it():
    ddoc = design.site_design()
    old = copy.deepcopy(GOOD)
    old["status"] = "approved"
    new = edited(old, by="wanda", action="allocate", to="allocated")
    check = lambda n, o, roles: designjs.run([{"kind": "validate", "newDoc": n, "oldDoc": o,
                                              "userCtx": {"name": "wanda", "roles": roles}}], design=ddoc)[0]
    assert "happens at the centre only" in check(new, old, ["level:editor", "[Warehouse]"])["forbidden"]
    assert check(new, old, ["_admin"]) == {"ok": True}
    stock = {"_id": "stock:WID-100:MAIN", "type": "stock", "on_hand": 1, "reserved": 0}
    assert "Stock is decided at the centre" in check(stock, None, ["level:editor"])["forbidden"]


def test_the_conflicts_view_lists_only_orders_with_competing_versions():
    ddoc = designjs.ddoc()
    doc = copy.deepcopy(GOOD)
    plain = designjs.run([{"kind": "map", "view": "orders_conflicts", "doc": doc}])[0]["emitted"]
    doc["_conflicts"] = ["2-b"]
    both = designjs.run([{"kind": "map", "view": "orders_conflicts", "doc": doc}], design=ddoc)[0]["emitted"]
    assert plain == [] and both[0][0] == ["*", "SO-000123"] and both[0][1]["versions"] == 2


def test_a_partner_account_is_told_from_staff_and_replicator_accounts():
    assert PartnerPerson.from_roles("alice@acme", ["partner:acme", "partner-level:author"]).partner == "acme"
    assert PartnerPerson.from_roles("alice@acme", ["partner:acme", "partner-level:author", "level:reader"]) is None
    assert PartnerPerson.from_roles("oms-partner-acme", ACME_REPLICATOR["roles"]) is None
    assert PartnerPerson.from_roles("alice@globex", ["partner:acme", "partner-level:author"]) is None
    assert PartnerPerson.from_roles("sally", ["level:author", "[Sales]"]) is None


def test_a_site_url_must_name_the_branch_and_its_admin():
    from oms.core.errors import InvalidInput
    from replication.sites import Target, site_name
    t = Target.parse("http://adm:s%40cret@branch.example:5984/orders_b", "orders")
    assert (t.server_url, t.user, t.password, t.db) == ("http://branch.example:5984", "adm", "s@cret", "orders_b")
    assert Target.parse("https://a:b@host/", "orders").db == "orders"
    assert site_name(t, None) == "branch-example-5984"
    for bad in ("branch:5984/orders", "http://branch:5984/orders", "ftp://a:b@host/x"):
        with pytest.raises(InvalidInput):
            Target.parse(bad, "orders")


def test_partner_ids_are_short_lower_case_names():
    from oms.core.errors import InvalidInput
    from replication.partners import check_id, database_name, number_prefix
    assert database_name("acme") == "partner_acme" and number_prefix("acme") == "SO-ACME-"
    for bad in ("Acme", "a", "1acme", "acme_x", "x" * 17, None):
        with pytest.raises(InvalidInput):
            check_id(bad)
