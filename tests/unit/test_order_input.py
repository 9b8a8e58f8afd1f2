"""Turning a person's input into an order: priced from the catalog, taxed by the ship-to country,
every bad value named beside its field (all at once), nothing half-built."""
import pytest

from oms.catalog.products import Book
from oms.core.errors import InvalidInput
from oms.core.money import to_cents
from oms.identity.acl import Access
from oms.ordering.orders import approval_needs, new_order, read_lines

SALLY = Access("sally", "author", ("[Sales]",))
MIA = Access("mia", "manager", ("[Manager]", "[Sales]"))
NOW = "2026-11-25T10:00:00Z"
CUSTOMER = {"_id": "customer:C0001", "name": "Acme Ltd", "type": "customer", "tier": "gold", "currency": "EUR",
            "ship_tos": [{"id": "MAIN", "name": "Acme, Goods in", "city": "Hamburg", "country": "DE"},
                         {"id": "LEEDS", "name": "Acme UK", "city": "Leeds", "country": "GB"}]}


def product(sku, eur, tax_class="standard", status="active", description=None):
    return {"_id": f"product:{sku}", "type": "product", "sku": sku, "description": description or f"Product {sku}",
            "unit": "each", "list_prices": {"EUR": eur}, "tax_class": tax_class, "status": status}


GOLD = {"_id": "pricelist:GOLD", "type": "pricelist", "name": "Gold", "currency": "EUR", "tier": "gold",
        "items": {"WID-100": [{"min_qty": 1, "unit_cents": 420}, {"min_qty": 20, "unit_cents": 395}]}}
BOOK = Book({"WID-100": product("WID-100", 450, description="Widget, small"), "GAD-310": product("GAD-310", 3990),
             "SPR-010": product("SPR-010", 80, tax_class="reduced"), "OLD-1": product("OLD-1", 100, status="withdrawn")},
            (GOLD,))


def build(data, access=SALLY, customer=CUSTOMER):
    return new_order({"customer": "C0001", **data}, "SO-000042", access, customer, NOW, BOOK)


def test_amounts_are_kept_in_cents_exactly():
    assert to_cents("12.50", "x") == 1250
    assert to_cents(0.1, "x") == 10
    assert to_cents("1999999.99", "x") == 199999999


@pytest.mark.parametrize("bad", ["-1", "1.234", "abc", "", None, True, "NaN", "inf"])
def test_bad_amounts_are_refused_with_the_field_named(bad):
    with pytest.raises(InvalidInput, match="unit_price"):
        to_cents(bad, "lines[0].unit_price")


def test_a_line_without_a_price_takes_the_best_offer_and_is_taxed_by_the_ship_to_country():
    doc = build({"lines": [{"sku": "wid-100", "qty": "25"}, {"sku": "SPR-010", "qty": 10}]})
    wid, spr = doc["lines"]
    # gold customer, 25 units: the gold list's break at 20 (3.95), below the list price (4.50)
    assert (wid["unit_price_cents"], wid["list_price_cents"], wid["price_source"]) == (395, 395, "pricelist:GOLD")
    assert (wid["amount_cents"], wid["tax_rate_bp"], wid["tax_cents"]) == (9875, 1900, 1876)
    assert wid["description"] == "Widget, small"
    assert (spr["unit_price_cents"], spr["price_source"], spr["tax_rate_bp"], spr["tax_cents"]) == (80, "list_price", 700, 56)
    assert doc["totals"] == {"net_cents": 10675, "qty": 35, "shipping_cents": 0, "tax_cents": 1932, "gross_cents": 12607}
    uk = build({"ship_to": "LEEDS", "shipping": "10.00", "lines": [{"sku": "GAD-310", "qty": 1}]})
    assert uk["lines"][0]["tax_rate_bp"] == 2000 and uk["totals"]["tax_cents"] == 798 + 200
    assert uk["totals"]["gross_cents"] == 3990 + 1000 + 998


def test_every_problem_is_named_beside_its_field_at_once():
    with pytest.raises(InvalidInput) as err:
        build({"lines": [{"sku": "NOPE-999", "qty": 1}, {"sku": "WID-100", "qty": "x"},
                         {"sku": "OLD-1", "qty": 1}, {"sku": "WID-100", "qty": 2, "unit_price": "1,5"}],
               "requested_date": 7})
    fields = err.value.fields
    assert fields["lines[1].qty"] == "Line 2: quantity must be a whole number from 1, e.g. 3, not 'x'"
    assert fields["lines[3].unit_price"].startswith('Line 4: unit price must be an amount like "12.50"')
    assert fields["requested_date"] == "requested_date must be text, not 7"
    # every line's product is looked at in the same breath, also beside a quantity that is wrong
    assert fields["lines[0].sku"] == "Line 1: NOPE-999 is not a product we sell"
    assert fields["lines[2].sku"] == "Line 3: OLD-1 (Product OLD-1) is withdrawn and can no longer be ordered"
    with pytest.raises(InvalidInput) as err:
        build({"lines": [{"sku": "NOPE-999", "qty": 1}, {"sku": "WID-100", "qty": 1}, {"sku": "OLD-1", "qty": 1}]})
    assert err.value.fields == {"lines[0].sku": "Line 1: NOPE-999 is not a product we sell",
                                "lines[2].sku": "Line 3: OLD-1 (Product OLD-1) is withdrawn and can no longer be ordered"}


@pytest.mark.parametrize("data,needle", [
    ({"lines": []}, "at least one line"),
    ({"lines": [{"sku": "", "qty": 1}]}, "Line 1: choose a product"),
    ({"lines": [{"sku": "WID-100", "qty": 0}]}, "Line 1: quantity must be a whole number from 1 to 1,000,000, not 0"),
    ({"lines": [{"sku": "WID-100", "qty": 1.5}]}, "Line 1: quantity"),
    ({"lines": [{"sku": "WID-100", "qty": 1}], "status": "shipped"}, "draft or submitted"),
    ({"lines": [{"sku": "WID-100", "qty": 1}], "colour": "red"}, "unknown field"),
    ({"lines": [{"sku": "WID-100", "qty": 1}], "promised_date": "soon"}, "promised_date"),
])
def test_bad_orders_are_refused_with_a_reason(data, needle):
    with pytest.raises(InvalidInput) as err:
        build(data)
    assert needle in err.value.reason


def test_a_discount_beyond_the_persons_limit_sends_a_submitted_order_to_price_approval():
    within = build({"status": "submitted", "lines": [{"sku": "GAD-310", "qty": 1, "unit_price": "34.00"}]})
    assert within["status"] == "submitted"           # 14.8% off: within [Sales]' 15%
    beyond = build({"status": "submitted", "lines": [{"sku": "GAD-310", "qty": 1, "unit_price": "33.00"}]})
    assert beyond["status"] == "price_approval"      # 17.3% off
    assert beyond["history"][0]["to"] == "price_approval"
    assert "line 1 (GAD-310) is 17.3% below the offered price; you may give up to 15%" in beyond["history"][0]["reason"]
    assert build({"lines": [{"sku": "GAD-310", "qty": 1, "unit_price": "1.00"}]})["status"] == "draft"
    assert build({"status": "submitted", "lines": [{"sku": "GAD-310", "qty": 1, "unit_price": "1.00"}]},
                 access=MIA)["status"] == "submitted"


def test_an_order_above_the_value_ceiling_waits_for_approval_unless_its_author_may_approve():
    big = {"status": "submitted", "lines": [{"sku": "GAD-310", "qty": 2000}]}   # 79,800 + tax > 50,000 EUR
    assert build(big)["status"] == "price_approval"
    assert "above the 50,000.00 EUR that needs approval" in approval_needs(build(big), SALLY)[0]
    assert build(big, access=MIA)["status"] == "submitted"


def test_lines_keep_their_order_and_numbers():
    lines = read_lines([{"sku": "B", "qty": 1, "unit_price": 1}, {"sku": "A", "qty": 2, "unit_price": 1}])
    assert [(l["line"], l["sku"]) for l in lines] == [(1, "B"), (2, "A")]
