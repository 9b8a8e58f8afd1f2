"""The real view functions (map.js / reduce.js, compiled as deploy compiles them) run under node:
what each view emits for an order, that Readers fields become key principals, and that the
Python totals agree with the reduce."""
import pytest

from couch_design.viewsrc import expand, view_rules
from oms.core.rules import load_rules
from tests.designjs import ddoc, map_doc, reduce_values
from tests.viewdata import order_doc
from views.totals import agg_add, agg_empty, agg_row

ORDER_VIEWS = ["orders_by_number", "orders_by_status", "orders_by_customer", "orders_by_priority",
               "orders_by_owner", "orders_unshipped_by_promised", "orders_backordered", "orders_by_partner",
               "backlog_by_warehouse", "orders_open_by_created", "orders_activity_by_day", "orders_search"]


def keys(view, doc):
    return [k for k, _ in map_doc(view, doc)]


def rich(**fields):
    base = dict(status="allocated", promised_date="2026-01-05", partner="acme",
                lines=[{"sku": "WID-100", "qty": 5, "unit_price_cents": 450, "shipped_qty": 1},
                       {"sku": "GAD-310", "qty": 2, "unit_price_cents": 3990}],
                allocations=[{"line": 1, "sku": "WID-100", "warehouse": "BER", "qty": 3},
                             {"line": 2, "sku": "GAD-310", "warehouse": "HAM", "qty": 2}],
                backorders=[{"line": 1, "sku": "WID-100", "qty": 2}])
    base.update(fields)
    return order_doc("SO-000042", **base)


def test_every_view_of_orders_is_deployed_and_ignores_other_documents():
    assert set(ORDER_VIEWS) <= set(ddoc()["views"])
    for view in ORDER_VIEWS:
        assert map_doc(view, {"_id": "customer:C1", "type": "customer", "name": "Acme"}) == []
        assert map_doc(view, {"_id": "x", "type": "comment", "parent": "order:SO-000042"}) == []


def test_an_order_anyone_may_read_is_indexed_under_the_star_principal_only():
    for view in ORDER_VIEWS:
        got = keys(view, rich())
        assert got, view
        assert {k[0] for k in got} == {"*"}, view


def test_an_order_with_readers_is_indexed_under_each_reader_and_author_once_and_never_under_star():
    doc = rich(readers=["[Credit]", "carl"], authors=["sally", "[Sales]", "carl"])
    got = keys("orders_by_number", doc)
    assert [k[0] for k in got] == ["[Credit]", "carl", "sally", "[Sales]"]
    assert all(k[1:] == ["SO-000042"] for k in got)


def test_every_key_ends_in_the_order_number_so_paging_by_key_is_unambiguous():
    for view in ORDER_VIEWS:
        assert all(k[-1] == "SO-000042" for k in keys(view, rich())), view


def test_by_status_keys_the_stage_by_its_place_in_the_rulebook():
    stages = list(load_rules()["workflow"]["states"])
    assert keys("orders_by_status", rich()) == [["*", stages.index("allocated"), "SO-000042"]]


def test_by_customer_sorts_on_a_key_every_server_orders_alike_and_labels_with_the_name():
    [(key, value)] = map_doc("orders_by_customer", rich(customer=("C0009", "Société Générale & Co.")))
    assert key == ["*", "socitgnraleco", "customer:C0009", "SO-000042"]
    assert value["cat"] == "Société Générale & Co." and value["net_cents"] == 5 * 450 + 2 * 3990


def test_work_queue_and_my_queue_hold_open_orders_only_under_the_role_owning_their_stage():
    assert keys("orders_by_priority", rich(priority=1)) == [["*", 1, "2026-01-05", "SO-000042"]]
    # My queue: most urgent first, then oldest, whatever the promised date
    assert keys("orders_by_owner", rich(priority=1)) == [["*", "[Warehouse]", 1, "2026-11-20T09:00:00Z", "SO-000042"]]
    assert keys("orders_by_owner", rich(status="submitted", promised_date=None)) == [
        ["*", "[Credit]", 3, "2026-11-20T09:00:00Z", "SO-000042"]]
    for closed in ("closed", "cancelled"):
        assert keys("orders_by_priority", rich(status=closed)) == []
        assert keys("orders_by_owner", rich(status=closed)) == []


@pytest.mark.parametrize("status,listed", [("draft", True), ("approved", True), ("partially_shipped", True),
                                           ("on_hold", True), ("shipped", False), ("delivered", False),
                                           ("closed", False), ("cancelled", False)])
def test_overdue_candidates_are_orders_not_yet_shipped_closed_or_cancelled(status, listed):
    assert bool(keys("orders_unshipped_by_promised", rich(status=status))) is listed


def test_an_order_without_a_promised_date_is_never_overdue():
    doc = rich()
    del doc["promised_date"]
    assert keys("orders_unshipped_by_promised", doc) == []


def test_backorders_list_an_order_under_each_sku_it_waits_for_with_the_units_summed():
    doc = rich(backorders=[{"line": 1, "sku": "WID-100", "qty": 2}, {"line": 3, "sku": "WID-100", "qty": 1},
                           {"line": 2, "sku": "GAD-310", "qty": 4}, {"line": 4, "sku": "GIZ-400", "qty": 0}])
    got = {tuple(k): v["qty"] for k, v in map_doc("orders_backordered", doc)}
    assert got == {("*", "wid100", "WID-100", "SO-000042"): 3, ("*", "gad310", "GAD-310", "SO-000042"): 4}
    assert keys("orders_backordered", rich(backorders=[])) == []
    assert keys("orders_backordered", rich(status="cancelled")) == []


def test_backlog_counts_units_still_owed_per_warehouse_after_what_has_shipped():
    got = {k[2]: v["qty"] for k, v in map_doc("backlog_by_warehouse", rich())}
    # line 1: 5 ordered, 1 shipped, 3 allocated in BER -> BER owes 2, 2 not allocated yet
    assert got == {"BER": 2, "HAM": 2, "": 2}
    assert keys("backlog_by_warehouse", rich(status="draft")) == []
    assert keys("backlog_by_warehouse", rich(status="shipped")) == []


def test_partner_view_holds_only_orders_with_a_partner():
    assert keys("orders_by_partner", rich()) == [["*", "acme", "acme", "SO-000042"]]
    doc = rich()
    del doc["partner"]
    assert keys("orders_by_partner", doc) == []


def test_activity_counts_the_day_placed_and_the_day_shipped():
    doc = rich(status="shipped", at="2026-11-02T10:00:00Z")
    doc["history"].append({"at": "2026-11-04T16:00:00Z", "by": "sam", "action": "ship", "from": "picking", "to": "shipped"})
    assert keys("orders_activity_by_day", doc) == [["*", "created", "2026-11-02", "SO-000042"],
                                                   ["*", "shipped", "2026-11-04", "SO-000042"]]


def test_search_terms_cover_number_customer_words_and_id_skus_and_partner():
    terms = {k[1] for k in keys("orders_search", rich(customer=("C0001", "Acme Ltd")))}
    assert {"so000042", "000042", "42", "acmeltd", "acme", "ltd", "c0001", "wid100", "gad310"} <= terms
    assert all(t == t.lower() and t.isalnum() for t in terms)


def test_the_totals_reduce_counts_sums_per_currency_and_re_reduces():
    values = [{"net_cents": 500, "currency": "EUR", "cat": "x"}, {"net_cents": 700, "currency": "USD", "qty": 3},
              {"net_cents": 100, "currency": "EUR", "qty": 2}]
    once = reduce_values("orders_by_status", values)
    assert once == {"n": 3, "v": {"EUR": 600, "USD": 700}, "q": 5, "l": "x"}
    again = reduce_values("orders_by_status", [once, once], rereduce=True)
    assert again == {"n": 6, "v": {"EUR": 1200, "USD": 1400}, "q": 10, "l": "x"}


def test_python_totals_agree_with_the_reduce_function():
    values = [{"net_cents": 500, "currency": "EUR", "cat": "x"}, {"net_cents": 700, "currency": "USD", "qty": 3}]
    py = agg_empty()
    for v in values:
        agg_add(py, agg_row(v))
    assert py == reduce_values("orders_by_customer", values)


def test_views_that_count_have_the_totals_reduce_and_all_orders_by_number_has_none():
    views = ddoc()["views"]
    assert "reduce" not in views["orders_by_number"] and "reduce" not in views["orders_search"]
    shared = views["orders_by_status"]["reduce"]
    for name in set(ORDER_VIEWS) - {"orders_by_number", "orders_search"}:
        assert views[name]["reduce"] == shared, name


def test_view_rules_follow_the_workflow():
    r = view_rules()
    wf = load_rules()["workflow"]
    assert r["stages"] == list(wf["states"])
    assert set(r["awaiting_shipment"]) == {"draft", "price_approval", "submitted", "credit_hold", "approved", "allocated",
                                           "picking", "partially_shipped", "on_hold"}
    assert set(r["backlog"]) == set(r["awaiting_shipment"]) - {"draft"}
    assert all(r["owner"][s] == wf["states"][s]["owner_role"] for s in r["owner"])


def test_deploy_inlines_markers_and_refuses_an_unknown_rule(tmp_path):
    (tmp_path / "views_lib").mkdir()
    (tmp_path / "views_lib" / "x.js").write_text("function x() { return 1; }")
    out = expand("function (doc) { /*@include x*/ var o = /*@rules open*/null; }", tmp_path)
    assert "function x()" in out and '"draft":true' in out and "/*@" not in out
    with pytest.raises(KeyError, match="unknown view rule"):
        expand("/*@rules nope*/null", tmp_path)
    assert "/*@" not in str(ddoc())


def test_credit_exposure_counts_only_the_states_the_credit_rules_name():
    states = load_rules()["priority"]["credit"]["exposure_states"]
    assert set(view_rules()["exposure"]) == set(states)
    emitted = {s: map_doc("credit_exposure_by_customer", order_doc("SO-000042", status=s))
               for s in load_rules()["workflow"]["states"]}
    assert {s for s, rows in emitted.items() if rows} == set(states)
    order = order_doc("SO-000042")
    assert emitted[states[0]] == [[[order["customer"]["id"], order["currency"]], order["totals"]["net_cents"]]]
    priced = dict(order, status=states[0], totals={**order["totals"], "gross_cents": 4321})
    assert map_doc("credit_exposure_by_customer", priced) == [[[order["customer"]["id"], order["currency"]], 4321]]
    assert map_doc("credit_exposure_by_customer", {"_id": "customer:C1", "type": "customer"}) == []
