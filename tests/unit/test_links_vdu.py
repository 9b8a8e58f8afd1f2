"""The database's last word on stock, customers, shipments and what an order holds: the real
validate_doc_update (compiled as deploy compiles it) run under node."""
import copy

import pytest

from oms.core import schema
from oms.identity.acl import Access
from oms.ordering import workflow
from tests import designjs
from tests.unit.test_schema_parity import GOOD

WANDA = ("wanda", ["level:editor", "[Warehouse]"])
SALLY = ("sally", ["level:author", "[Sales]"])
CARL = ("carl", ["level:editor", "[Credit]"])
SAM = ("sam", ["level:editor", "[Shipping]"])
ADMIN = ("admin", ["_admin"])

STOCK = {"_id": "stock:WID-100:MAIN", "type": "stock", "sku": "WID-100", "warehouse": "MAIN",
         "on_hand": 10, "reserved": 4, "holds": {"SO-000001/1": 3, "SO-000002/1": 1}}


def check(new, old, who):
    return designjs.validate(new, old, who[0], who[1])


def test_a_stock_document_that_adds_up_is_accepted_from_the_warehouse():
    assert check(STOCK, None, WANDA) == {"ok": True}


@pytest.mark.parametrize("who", [WANDA, ADMIN])
@pytest.mark.parametrize("change,needle", [
    ({"reserved": 11, "holds": {"SO-000001/1": 11}}, "reserving 11 of 10 on hand would oversell"),
    ({"reserved": 5}, "reserved must be the sum of the holds = 4, not 5"),
    ({"reserved": -1, "holds": {}}, "reserved must be a whole number from 0"),
    ({"holds": {"SO-000001/1": 0}, "reserved": 0}, "must be a whole number from 1"),
    ({"holds": []}, "holds must be an object"),
    ({"_id": "stock:WID-100:EAST"}, '_id must be "stock:" + sku + ":" + warehouse'),
])
def test_stock_that_would_oversell_or_not_add_up_is_refused_even_for_an_admin(who, change, needle):
    doc = {**copy.deepcopy(STOCK), **change}
    assert needle in check(doc, STOCK, who)["forbidden"]


def test_only_the_warehouse_role_changes_stock():
    assert "[Warehouse]" in check(STOCK, None, SALLY)["forbidden"]
    assert "[Warehouse]" in check(STOCK, None, ("bob", ["level:author", "[Warehouse]"]))["forbidden"]
    assert check(STOCK, None, ("mia", ["level:manager"])) == {"ok": True}
    moved = {**STOCK, "sku": "WID-200", "_id": "stock:WID-200:MAIN"}
    assert "never change" in check(moved, STOCK, WANDA)["forbidden"]


def test_customer_profiles_belong_to_credit():
    doc = {"_id": "customer:C9", "type": "customer", "name": "Nine", "tier": "gold", "credit_limit_cents": 100}
    assert check(doc, None, CARL) == {"ok": True}
    assert "[Credit]" in check(doc, None, SALLY)["forbidden"]
    assert "tier must be text like" in check({**doc, "tier": "tin"}, None, CARL)["forbidden"]
    assert "credit_limit_cents must be a whole number from 0" in check({**doc, "credit_limit_cents": -1}, None, CARL)["forbidden"]


def test_a_shipment_is_written_once_by_shipping_as_themselves():
    doc = {"_id": "shipment:abc", "type": "shipment", "order": "SO-000001", "warehouse": "MAIN",
           "lines": [{"line": 1, "sku": "WID-100", "qty": 2}], "shipped_at": "2026-11-25T10:00:00Z",
           "shipped_by": "sam"}
    assert check(doc, None, SAM) == {"ok": True}
    assert "shipped_by must be you" in check({**doc, "shipped_by": "bill"}, None, SAM)["forbidden"]
    assert "[Shipping]" in check(doc, None, WANDA)["forbidden"]
    assert "never changes" in check({**doc, "carrier": "X"}, doc, SAM)["forbidden"]
    assert "lines needs at least 1 item" in check({**doc, "lines": []}, None, SAM)["forbidden"]


def test_an_order_holds_no_more_than_its_lines_and_names_real_lines():
    base = {**copy.deepcopy(GOOD), "status": "approved"}
    ok = {**base, "allocations": [{"line": 1, "sku": "WID-100", "warehouse": "MAIN", "qty": 2}],
          "backorders": [{"line": 1, "sku": "WID-100", "qty": 1}]}
    assert check(ok, None, ADMIN) == {"ok": True}
    cases = [
        ({"allocations": [{"line": 2, "sku": "WID-100", "warehouse": "MAIN", "qty": 1}]}, "must name a line"),
        ({"allocations": [{"line": 1, "sku": "GAD-310", "warehouse": "MAIN", "qty": 1}]}, "must be the line's SKU"),
        ({"allocations": [{"line": 1, "sku": "WID-100", "warehouse": "MAIN", "qty": 3}],
          "backorders": [{"line": 1, "sku": "WID-100", "qty": 1}]}, "more than its quantity 3"),
        ({"allocations": [{"line": 1, "sku": "WID-100", "warehouse": "MAIN", "qty": 1}] * 2}, "twice"),
    ]
    for change, needle in cases:
        doc = {**base, **change}
        assert needle in check(doc, None, ADMIN)["forbidden"], change


def test_approving_an_order_on_credit_hold_needs_a_reason_in_the_database_too():
    carl = Access("carl", "editor", ("[Credit]",))
    held = {**copy.deepcopy(GOOD), "status": "credit_hold",
            "history": GOOD["history"] + [{"at": "2026-11-25T10:00:00Z", "by": "oms-agent", "action": "hold_credit",
                                           "from": "submitted", "to": "credit_hold", "reason": "over"}]}
    bare = workflow.apply(carl, held, "approve", "2026-11-25T11:00:00Z")
    assert check(bare, held, CARL)["forbidden"] == "Approving an order on credit hold needs a reason."
    reasoned = workflow.apply(carl, held, "approve", "2026-11-25T11:00:00Z", reason="prepaid")
    assert check(reasoned, held, CARL) == {"ok": True}


def test_a_step_that_keeps_the_state_is_checked_like_any_other():
    wanda = Access("wanda", "editor", ("[Warehouse]",))
    doc = {**copy.deepcopy(GOOD), "status": "picking", "backorders": [{"line": 1, "sku": "WID-100", "qty": 3}]}
    new = workflow.apply(wanda, doc, "allocate_backorders", "2026-11-25T11:00:00Z",
                         changes={"allocations": [{"line": 1, "sku": "WID-100", "warehouse": "MAIN", "qty": 3}],
                                  "backorders": None})
    assert new["status"] == "picking"
    assert check(new, doc, WANDA) == {"ok": True}
    by_sam = workflow.apply(Access("sam", "editor", ("[Shipping]",)), doc, "allocate_backorders",
                            "2026-11-25T11:00:00Z", changes={"backorders": None})
    assert "Only [Warehouse]" in check(by_sam, doc, SAM)["forbidden"]


@pytest.mark.parametrize("doc_type,doc", [
    ("stock", {**STOCK, "on_hand": "ten"}),
    ("customer", {"name": "", "tier": "gold"}),
    ("shipment", {"order": "SO-1", "warehouse": "MAIN", "lines": [], "shipped_at": "x", "shipped_by": "sam"}),
])
def test_python_and_couchdb_describe_bad_link_documents_alike(doc_type, doc):
    py = schema.check(doc, doc_type)
    js = designjs.run([{"kind": "call", "module": "lib/schema", "fn": "check", "args": [doc, doc_type]}])[0]["value"]
    assert py and py == js
