"""Property tests (hypothesis): any input either becomes a valid order or is refused with a
sentence; the app and CouchDB's validate_doc_update agree on random documents; any sequence of
actions the app allows is a path the rulebook allows."""
import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.core import rules, schema
from oms.core.errors import InvalidInput
from oms.identity.acl import Access
from oms.ordering import workflow
from oms.catalog.products import Book
from oms.ordering.orders import new_order, order_problem
from tests import designjs
from tests.unit.test_schema_parity import GOOD

SALLY = Access("sally", "author", ("[Sales]",))
CUSTOMER = {"_id": "customer:C0001", "name": "Acme Ltd", "tier": "gold",
            "ship_tos": [{"id": "MAIN", "name": "Acme", "city": "Leeds", "country": "GB"}]}
BOOK = Book({sku: {"_id": f"product:{sku}", "type": "product", "sku": sku, "description": sku, "unit": "each",
                   "list_prices": {"EUR": 450}, "tax_class": "standard", "status": "active"}
             for sku in ("WID-100", "GAD-310")},
            ({"_id": "pricelist:GOLD", "type": "pricelist", "currency": "EUR", "tier": "gold",
              "items": {"WID-100": [{"min_qty": 1, "unit_cents": 420}, {"min_qty": 7, "unit_cents": 395}]}},))
junk = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**7), st.floats(allow_nan=True),
                 st.text(max_size=12), st.lists(st.integers(), max_size=2))
line = st.fixed_dictionaries({"sku": st.one_of(st.sampled_from(["WID-100", "gad-310", ""]), junk),
                              "qty": st.one_of(st.integers(-2, 10**7), junk),
                              "unit_price": st.one_of(st.decimals(-5, 10**8, places=3).map(str), junk, st.none())})


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=4), st.one_of(st.none(), st.sampled_from(["draft", "submitted", "shipped"]), junk))
def test_any_input_becomes_a_valid_order_or_a_sentence(lines, status):
    data = {"customer": "C0001", "lines": lines}
    if status is not None:
        data["status"] = status
    try:
        doc = new_order(data, "SO-000001", SALLY, CUSTOMER, "2026-11-25T10:00:00Z", BOOK)
    except InvalidInput as exc:
        assert exc.reason and len(exc.reason) < 300
        assert all(v and len(v) < 300 for v in exc.fields.values())
        return
    assert order_problem(doc) is None
    assert doc["totals"]["net_cents"] == sum(l["qty"] * l["unit_price_cents"] for l in doc["lines"])
    assert doc["totals"]["gross_cents"] == doc["totals"]["net_cents"] + doc["totals"]["tax_cents"]
    assert doc["status"] in ("draft", "submitted", "price_approval")


# Only values JSON can carry (no NaN/Infinity): anything else never reaches CouchDB at all.
json_junk = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**7), st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=12), st.lists(st.integers(), max_size=2))
mutations = st.lists(st.tuples(st.sampled_from(["number", "priority", "status", "currency", "version",
                                                "lines.0.qty", "lines.0.sku", "totals.qty", "customer.name",
                                                "promised_date", "history.0.at"]), json_junk), min_size=1, max_size=3)


def mutate(doc, path, value):
    node, keys = doc, path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    node[keys[-1]] = value


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutations, min_size=10, max_size=10))
def test_the_app_and_couchdb_agree_on_random_documents(batch):
    docs = []
    for muts in batch:
        doc = copy.deepcopy(GOOD)
        for path, value in muts:
            mutate(doc, path, value)
        docs.append(doc)
    cases = []
    for d in docs:
        cases.append({"kind": "call", "module": "lib/schema", "fn": "check", "args": [d, "order"]})
    js = designjs.run(cases)
    for d, r in zip(docs, js):
        assert schema.check(d, "order") == r["value"], d


personas = st.sampled_from([Access("sally", "author", ("[Sales]",)), Access("carl", "editor", ("[Credit]",)),
                            Access("wanda", "editor", ("[Warehouse]",)), Access("sam", "editor", ("[Shipping]",)),
                            Access("bill", "editor", ("[Billing]",)), Access("rita", "reader", ()),
                            Access("mia", "manager", ("[Manager]",))])


@settings(max_examples=200)
@given(st.lists(st.tuples(personas, st.sampled_from([t["name"] for t in rules.workflow()["transitions"]])), max_size=12))
def test_every_path_the_app_allows_is_a_path_of_the_rulebook(steps):
    doc = copy.deepcopy(GOOD)
    doc["authors"] = ["sally"]
    for who, action in steps:
        allowed = [a.name for a in workflow.actions_for(who, doc)]
        t = workflow.transition(action)
        if action not in allowed:
            continue
        assert doc["status"] in t["from"]
        assert who.level == "manager" or set(who.roles) & set(t["roles"])
        new = workflow.apply(who, doc, action, "2026-11-25T12:00:00Z", reason="r")
        assert new["status"] == workflow.target(t, doc) and new["status"] in rules.workflow()["states"]
        assert new["history"][:-1] == doc["history"] and new["history"][-1]["by"] == who.name
        doc = new
