"""The database has the last word on a priced order: validate_doc_update (lib/pricing.js) checks
each line's tax against the rulebook and the totals it makes, refuses a discount beyond the
writer's limit (or an order above the value ceiling) leaving the order in Submitted, and lets
only the [Catalog] role or a Manager change products and price lists. Python says the same
first (orders.order_problem), sentence for sentence."""
import copy

import pytest

from oms.catalog import pricing
from oms.catalog.products import Book
from oms.identity.acl import Access
from oms.ordering.orders import new_order, order_problem
from tests import designjs

NOW = "2026-11-25T10:00:00Z"
SALLY = Access("sally", "author", ("[Sales]",))
MIA = Access("mia", "manager", ("[Manager]",))
CUSTOMER = {"_id": "customer:C0001", "type": "customer", "name": "Acme Ltd", "currency": "EUR",
            "ship_tos": [{"id": "MAIN", "name": "Acme", "city": "Leeds", "country": "GB"}]}
BOOK = Book({s: {"_id": f"product:{s}", "type": "product", "sku": s, "description": s, "unit": "each",
                 "list_prices": {"EUR": p}, "tax_class": c, "status": "active"}
             for s, p, c in (("WID-100", 450, "standard"), ("SPR-010", 80, "reduced"))}, ())


def order(access=SALLY, status="submitted", **data):
    lines = data.pop("lines", [{"sku": "WID-100", "qty": 3}, {"sku": "SPR-010", "qty": 7}])
    doc = new_order({"customer": "C0001", "status": status, "lines": lines, "shipping": "5.00", **data},
                    "SO-000042", access, CUSTOMER, NOW, BOOK)
    return doc


def submitted(doc):
    doc = copy.deepcopy(doc)
    doc["status"] = doc["history"][0]["to"] = "submitted"
    return doc


def vdu(doc, access, old=None):
    return designjs.validate(doc, old, access.name, access.couch_roles())


def test_a_priced_order_passes_and_every_tampering_with_its_tax_is_refused_alike():
    good = order()
    assert order_problem(good) is None and vdu(good, SALLY).get("ok"), vdu(good, SALLY)
    tampered = []
    for change in (lambda d: d["lines"][0].update(tax_rate_bp=0),
                   lambda d: d["lines"][1].update(tax_cents=d["lines"][1]["tax_cents"] + 1),
                   lambda d: d["lines"][0].update(tax_class="luxury"),
                   lambda d: d["totals"].update(tax_cents=0),
                   lambda d: d["totals"].update(gross_cents=d["totals"]["net_cents"]),
                   lambda d: d["ship_to"].update(country="DE"),
                   lambda d: d["totals"].pop("gross_cents"),
                   lambda d: d["totals"].update(shipping_cents=0)):
        doc = copy.deepcopy(good)
        change(doc)
        tampered.append(doc)
    for doc in tampered:
        python = order_problem(doc)
        answer = vdu(doc, SALLY)
        assert python, doc
        assert answer.get("forbidden") == f"Invalid order: {python}.", (python, answer)


def test_an_unpriced_order_from_before_the_catalog_is_still_accepted():
    doc = order()
    for line in doc["lines"]:
        for k in ("tax_class", "tax_rate_bp", "tax_cents", "list_price_cents", "price_source"):
            line.pop(k)
    doc["totals"] = {"net_cents": doc["totals"]["net_cents"], "qty": doc["totals"]["qty"]}
    assert order_problem(doc) is None and vdu(doc, SALLY).get("ok")


def test_the_server_refuses_a_submitted_order_discounted_beyond_the_writers_limit():
    cheap = order(status="draft", lines=[{"sku": "WID-100", "qty": 1, "unit_price": "3.00"}])   # 33.4% off
    assert vdu(cheap, SALLY).get("ok")                      # a draft may hold any price
    refused = vdu(submitted(cheap), SALLY)
    assert "Line 1 (WID-100) is 33.34% below the offered price, beyond your limit of 15%" in refused.get("forbidden", ""), refused
    by_mia = order(access=MIA, status="draft", lines=[{"sku": "WID-100", "qty": 1, "unit_price": "3.00"}])
    assert vdu(submitted(by_mia), MIA).get("ok")
    waiting = dict(copy.deepcopy(cheap), status="price_approval")
    waiting["history"][0]["to"] = "price_approval"
    assert vdu(waiting, SALLY).get("ok")                    # asking for approval is always allowed


def test_only_someone_who_may_approve_prices_submits_an_order_above_the_ceiling():
    big = order(status="draft", lines=[{"sku": "WID-100", "qty": 1_000_000}])
    assert pricing.beyond_ceiling(big["totals"]["gross_cents"], "EUR")
    assert "above the value that needs approval (50000 EUR)" in vdu(submitted(big), SALLY).get("forbidden", "")
    assert vdu(submitted(order(access=MIA, status="draft", lines=[{"sku": "WID-100", "qty": 1_000_000}])), MIA).get("ok")


def test_only_the_catalog_role_or_a_manager_writes_products_and_price_lists():
    product = {"_id": "product:WID-100", "type": "product", "sku": "WID-100", "description": "Widget",
               "unit": "each", "list_prices": {"EUR": 450}, "tax_class": "standard", "status": "active"}
    keeper = Access("cate", "editor", ("[Catalog]",))
    assert vdu(product, keeper).get("ok")
    assert vdu(product, MIA).get("ok")
    for who in (SALLY, Access("erin", "editor", ("[Sales]", "[Credit]")), Access("aldo", "author", ("[Catalog]",))):
        assert "Only the [Catalog] role (Editor or above) or a Manager" in vdu(product, who).get("forbidden", ""), who
    assert "_id must be" in vdu(dict(product, _id="product:OTHER"), keeper).get("forbidden", "")
    price_list = {"_id": "pricelist:GOLD", "type": "pricelist", "name": "Gold", "currency": "EUR", "tier": "gold",
                  "items": {}}
    assert vdu(price_list, keeper).get("ok") and "Only the [Catalog]" in vdu(price_list, SALLY).get("forbidden", "")
    assert "Invalid price list: name is required" in vdu(dict(price_list, name=None), keeper).get("forbidden", "")


@pytest.mark.parametrize("country", ["GB", "DE", "NL", "XX", None])
def test_tax_follows_the_ship_to_country(country):
    customer = copy.deepcopy(CUSTOMER)
    if country:
        customer["ship_tos"][0]["country"] = country
    else:
        customer.pop("ship_tos")
    doc = new_order({"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 10}]}, "SO-000042", SALLY,
                    customer, NOW, BOOK)
    assert doc["lines"][0]["tax_rate_bp"] == pricing.tax_rate_bp("standard", country)
    assert order_problem(doc) is None and vdu(doc, SALLY).get("ok")
