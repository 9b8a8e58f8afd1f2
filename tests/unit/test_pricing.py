"""Prices, tax and price approval (oms/catalog/pricing.py) against figures worked out by hand
from rules/pricing.json: DE standard 19%, reduced 7%; GB 20%; home country DE."""
import datetime as dt

import pytest

from oms.catalog import pricing
from oms.catalog.pricing import (LIST_PRICE, beyond_ceiling, best_price, check_pricelist, check_product,
                                 discount_bp, discount_limit_bp, lines_beyond_limit, needs_price_approval,
                                 net_from_gross, order_totals, price_line, tax_cents, tax_rate_bp)
from oms.core import rules
from oms.core.errors import InvalidInput

WIDGET = {"_id": "product:WID-100", "type": "product", "sku": "WID-100", "description": "Widget, steel, 100 mm",
          "unit": "each", "list_prices": {"EUR": 1250, "USD": 1400}, "tax_class": "standard", "status": "active"}
GOLD = {"_id": "customer:C0001", "type": "customer", "name": "Acme Ltd", "tier": "gold"}
SILVER = {"_id": "customer:C0002", "type": "customer", "name": "Globex", "tier": "silver"}


def plist(_id, items, **fields):
    doc = {"_id": f"pricelist:{_id}", "type": "pricelist", "name": _id, "currency": "EUR", "tier": None,
           "customer": None, "valid_from": None, "valid_to": None, "prices_include_tax": False, "items": items}
    doc.update(fields)
    return doc


GOLD_LIST = plist("GOLD", {"WID-100": [{"min_qty": 1, "unit_cents": 1200}, {"min_qty": 10, "unit_cents": 1100}]},
                  tier="gold")


# ------------------------------------------------------------------ the rulebook

def test_the_rulebook_names_its_rounding_and_every_country_has_every_tax_class():
    book = rules.rules()["pricing"]
    assert book["rounding"] == "per_line"
    table = book["tax_rates_bp"]
    assert table["default"] in table and isinstance(table[table["default"]], dict)
    for country, rates in table.items():
        if country != "default":
            assert sorted(rates) == sorted(book["tax_classes"]), country
            assert all(type(bp) is int and 0 <= bp <= 10000 for bp in rates.values())
    assert set(book["order_ceiling_cents"]) == set(book["currencies"])
    assert book["default_tax_class"] in book["tax_classes"]
    assert set(book["discount_limits_bp"]["levels"]) <= set(rules.acl()["levels"])
    assert set(book["discount_limits_bp"]["roles"]) <= set(rules.acl()["roles"])


# ------------------------------------------------------------------ tax

def test_tax_rates_by_ship_to_country():
    assert tax_rate_bp("standard", "DE") == 1900
    assert tax_rate_bp("reduced", "DE") == 700
    assert tax_rate_bp("standard", "GB") == 2000
    assert tax_rate_bp("reduced", "FR") == 550
    assert tax_rate_bp("standard", "NL") == 2100
    assert tax_rate_bp("standard", "US") == 0
    assert tax_rate_bp("zero", "GB") == 0


def test_an_unknown_or_missing_country_pays_the_home_countrys_rates():
    assert tax_rate_bp("standard", "XX") == 1900
    assert tax_rate_bp("reduced", None) == 700
    assert tax_rate_bp("standard", "de") == 1900   # codes are upper case: "de" is not listed


def test_an_unknown_tax_class_is_refused():
    with pytest.raises(InvalidInput, match='one of standard, reduced, zero, not "luxury"'):
        tax_rate_bp("luxury", "DE")


def test_a_line_3_x_12_34_at_19_percent():
    assert price_line(3, 1234, "standard", "DE") == {"amount_cents": 3702, "tax_cents": 703, "gross_cents": 4405,
                                                     "tax_rate_bp": 1900}


def test_tax_is_rounded_half_up_to_the_cent():
    assert tax_cents(150, 1900) == 29     # 28.5: half-up, where banker's rounding gives 28
    assert tax_cents(25, 1000) == 3       # 2.5
    assert tax_cents(24, 1000) == 2       # 2.4
    assert tax_cents(26, 1000) == 3       # 2.6
    assert tax_cents(0, 1900) == 0
    assert tax_cents(pricing.MAX_CENTS, 10000) == pricing.MAX_CENTS


def test_tax_is_computed_per_line_then_summed():
    two = order_totals([{"qty": 1, "unit_price_cents": 150}, {"qty": 1, "unit_price_cents": 150}], "DE")
    assert two["tax_cents"] == 58          # 29 + 29, not 19% of 3.00 = 57
    assert [line["tax_cents"] for line in two["lines"]] == [29, 29]


def test_order_totals_with_shipping_and_mixed_classes():
    t = order_totals([{"qty": 3, "unit_price_cents": 1234, "tax_class": "standard"},
                      {"qty": 2, "unit_price_cents": 999, "tax_class": "reduced"},
                      {"qty": 1, "unit_price_cents": 500}],   # no class: standard
                     "DE", shipping_cents=495)
    # 3702 @19% = 703.38 -> 703; 1998 @7% = 139.86 -> 140; 500 @19% = 95; shipping 495 @19% = 94.05 -> 94
    assert t["net_cents"] == 3702 + 1998 + 500
    assert t["qty"] == 6
    assert t["shipping_cents"] == 495 and t["shipping_tax_cents"] == 94
    assert t["tax_cents"] == 703 + 140 + 95 + 94
    assert t["gross_cents"] == 6200 + 495 + 1032 == 7727
    assert order_totals([{"qty": 1, "unit_price_cents": 1000}], "DE", 100, "zero")["tax_cents"] == 190


def test_order_totals_follow_the_ship_to_country():
    lines = [{"qty": 10, "unit_price_cents": 1000}]
    assert order_totals(lines, "GB")["tax_cents"] == 2000
    assert order_totals(lines, "US")["gross_cents"] == 10000
    assert order_totals(lines, "ZZ")["tax_cents"] == 1900


@pytest.mark.parametrize("args,field", [((0.5, 100, "standard", "DE"), "qty"), ((True, 100, "standard", "DE"), "qty"),
                                        ((1, -1, "standard", "DE"), "unit_price_cents"),
                                        ((1, "100", "standard", "DE"), "unit_price_cents"),
                                        ((1, 10**9 + 1, "standard", "DE"), "unit_price_cents"),
                                        ((10**7, 10**9, "standard", "DE"), "amount_cents")])
def test_amounts_must_be_whole_cents_in_range(args, field):
    with pytest.raises(InvalidInput, match=f"^{field} must be a whole number from 0 to"):
        price_line(*args)


def test_a_whole_number_sent_as_json_float_counts_as_whole():
    assert price_line(3.0, 1234.0, "standard", "DE")["amount_cents"] == 3702


# ------------------------------------------------------------------ prices

def test_without_price_lists_the_list_price_applies():
    assert best_price(WIDGET, [], GOLD, 1, "EUR", "2026-06-01") == (1250, LIST_PRICE)
    assert best_price(WIDGET, [], None, 1, "USD", "2026-06-01") == (1400, LIST_PRICE)
    with pytest.raises(InvalidInput, match="WID-100 has no price in GBP"):
        best_price(WIDGET, [], GOLD, 1, "GBP", "2026-06-01")


@pytest.mark.parametrize("qty,unit", [(1, 1200), (9, 1200), (10, 1100), (11, 1100), (500, 1100)])
def test_quantity_breaks(qty, unit):
    assert best_price(WIDGET, [GOLD_LIST], GOLD, qty, "EUR", "2026-06-01") == (unit, "pricelist:GOLD")


def test_quantity_breaks_in_any_order_and_below_the_first_break():
    unsorted = plist("BULK", {"WID-100": [{"min_qty": 100, "unit_cents": 900}, {"min_qty": 10, "unit_cents": 1000}]})
    assert best_price(WIDGET, [unsorted], None, 150, "EUR", "2026-06-01") == (900, "pricelist:BULK")
    assert best_price(WIDGET, [unsorted], None, 99, "EUR", "2026-06-01") == (1000, "pricelist:BULK")
    assert best_price(WIDGET, [unsorted], None, 9, "EUR", "2026-06-01") == (1250, LIST_PRICE)


def test_a_list_without_the_product_or_in_another_currency_or_tier_does_not_apply():
    other = plist("OTHER", {"GAD-7": [{"min_qty": 1, "unit_cents": 1}]})
    usd = plist("USD", {"WID-100": [{"min_qty": 1, "unit_cents": 1}]}, currency="USD")
    assert best_price(WIDGET, [other, usd, GOLD_LIST], SILVER, 1, "EUR", "2026-06-01") == (1250, LIST_PRICE)
    assert best_price(WIDGET, [GOLD_LIST], None, 1, "EUR", "2026-06-01") == (1250, LIST_PRICE)


@pytest.mark.parametrize("day,applies", [("2025-12-31", False), ("2026-01-01", True), ("2026-03-31", True),
                                         ("2026-04-01", False), (dt.date(2026, 2, 1), True)])
def test_validity_dates_are_inclusive(day, applies):
    spring = plist("SPRING", {"WID-100": [{"min_qty": 1, "unit_cents": 1000}]},
                   valid_from="2026-01-01", valid_to="2026-03-31")
    expected = (1000, "pricelist:SPRING") if applies else (1250, LIST_PRICE)
    assert best_price(WIDGET, [spring], None, 1, "EUR", day) == expected


def test_open_ended_validity():
    since = plist("SINCE", {"WID-100": [{"min_qty": 1, "unit_cents": 1000}]}, valid_from="2026-01-01")
    until = plist("UNTIL", {"WID-100": [{"min_qty": 1, "unit_cents": 1100}]}, valid_to="2025-12-31")
    assert best_price(WIDGET, [since, until], None, 1, "EUR", "2099-01-01") == (1000, "pricelist:SINCE")
    assert best_price(WIDGET, [since, until], None, 1, "EUR", "2000-01-01") == (1100, "pricelist:UNTIL")


def test_the_lowest_applicable_price_wins_customer_or_tier():
    acme_cheaper = plist("ACME", {"WID-100": [{"min_qty": 1, "unit_cents": 1150}]}, customer="customer:C0001")
    acme_dearer = plist("ACME", {"WID-100": [{"min_qty": 1, "unit_cents": 1210}]}, customer="customer:C0001")
    assert best_price(WIDGET, [GOLD_LIST, acme_cheaper], GOLD, 1, "EUR", "2026-06-01") == (1150, "pricelist:ACME")
    assert best_price(WIDGET, [GOLD_LIST, acme_dearer], GOLD, 1, "EUR", "2026-06-01") == (1200, "pricelist:GOLD")
    # another customer's list never applies
    assert best_price(WIDGET, [acme_cheaper], SILVER, 1, "EUR", "2026-06-01") == (1250, LIST_PRICE)


def test_a_partners_list_prices_the_customers_it_orders_for_and_nobody_else():
    acme_list = plist("ACME-PARTNER", {"WID-100": [{"min_qty": 1, "unit_cents": 1100}]}, partner="acme")
    theirs = {**SILVER, "_id": "customer:ACME-01", "partner": "acme"}
    assert best_price(WIDGET, [acme_list, GOLD_LIST], theirs, 1, "EUR", "2026-06-01") == (1100, "pricelist:ACME-PARTNER")
    assert best_price(WIDGET, [acme_list], {**theirs, "partner": "globex"}, 1, "EUR", "2026-06-01") == (1250, LIST_PRICE)
    assert best_price(WIDGET, [acme_list], GOLD, 1, "EUR", "2026-06-01") == (1250, LIST_PRICE)


def test_at_equal_prices_the_most_specific_list_is_named():
    everyone = plist("ALL", {"WID-100": [{"min_qty": 1, "unit_cents": 1200}]})
    acme = plist("ZZ-ACME", {"WID-100": [{"min_qty": 1, "unit_cents": 1200}]}, customer="customer:C0001")
    assert best_price(WIDGET, [everyone, GOLD_LIST, acme], GOLD, 1, "EUR", "2026-06-01") == (1200, "pricelist:ZZ-ACME")
    assert best_price(WIDGET, [everyone, GOLD_LIST], GOLD, 1, "EUR", "2026-06-01") == (1200, "pricelist:GOLD")


def test_a_list_entered_with_tax_is_compared_net():
    gross = plist("SHOP", {"WID-100": [{"min_qty": 1, "unit_cents": 1190}]}, prices_include_tax=True)
    assert best_price(WIDGET, [gross], None, 1, "EUR", "2026-06-01", country="DE") == (1000, "pricelist:SHOP")
    # shipped to GB the same gross figure holds 20%: 1190 / 1.2 = 991.67 -> 992
    assert best_price(WIDGET, [gross], None, 1, "EUR", "2026-06-01", country="GB") == (992, "pricelist:SHOP")
    # a net list at 1001 loses to the gross list's 1000 net; at 999 it wins
    net_1001 = plist("NET", {"WID-100": [{"min_qty": 1, "unit_cents": 1001}]})
    net_999 = plist("NET", {"WID-100": [{"min_qty": 1, "unit_cents": 999}]})
    assert best_price(WIDGET, [net_1001, gross], None, 1, "EUR", "2026-06-01", "DE") == (1000, "pricelist:SHOP")
    assert best_price(WIDGET, [net_999, gross], None, 1, "EUR", "2026-06-01", "DE") == (999, "pricelist:NET")
    reduced = dict(WIDGET, tax_class="reduced")
    assert best_price(reduced, [gross], None, 1, "EUR", "2026-06-01", "DE") == (1112, "pricelist:SHOP")  # 1190/1.07


def test_net_from_gross_rounds_half_up():
    assert net_from_gross(3, 2000) == 3        # 2.5
    assert net_from_gross(1190, 1900) == 1000
    assert net_from_gross(1000, 1900) == 840   # 840.34
    assert net_from_gross(0, 1900) == 0


# ------------------------------------------------------------------ discounts and approval

def test_discount_in_basis_points_rounded_up():
    assert discount_bp(1000, 850) == 1500
    assert discount_bp(1000, 849) == 1510
    assert discount_bp(3, 2) == 3334           # 33.33..% up
    assert discount_bp(1000, 1000) == 0
    assert discount_bp(1000, 1200) == 0        # above the offer: no discount
    assert discount_bp(0, 0) == 0
    assert discount_bp(1000, 0) == 10000


def test_the_larger_limit_of_level_and_roles_applies():
    assert discount_limit_bp("reader", []) == 0
    assert discount_limit_bp("author", []) == 500
    assert discount_limit_bp("editor", ["[Warehouse]"]) == 1000
    assert discount_limit_bp("author", ["[Sales]"]) == 1500
    assert discount_limit_bp("author", ["[Sales]", "[Manager]"]) == 10000
    assert discount_limit_bp("manager", None) == 10000
    assert discount_limit_bp("nobody", ["[Nobody]"]) == 0


def test_price_approval_beyond_the_persons_limit():
    within = {"list_price_cents": 1000, "unit_price_cents": 850}      # 15.00%
    beyond = {"list_price_cents": 1000, "unit_price_cents": 849}      # 15.10%
    full = {"list_price_cents": 1000, "unit_price_cents": 1000}
    assert not needs_price_approval([full, within], "author", ["[Sales]"])
    assert needs_price_approval([full, within, beyond], "author", ["[Sales]"])
    assert lines_beyond_limit([full, within, beyond], "author", ["[Sales]"]) == [2]
    assert lines_beyond_limit([full, within, beyond], "editor", []) == [1, 2]
    assert not needs_price_approval([beyond], "editor", ["[Manager]"])


def test_the_order_ceiling():
    assert not beyond_ceiling(5_000_000, "EUR")
    assert beyond_ceiling(5_000_001, "EUR")
    assert not beyond_ceiling(4_000_000, "GBP")
    assert beyond_ceiling(4_000_001, "GBP")
    with pytest.raises(InvalidInput, match='currency must be one of EUR, USD, GBP, not "JPY"'):
        beyond_ceiling(1, "JPY")


# ------------------------------------------------------------------ documents

def test_a_good_product_has_no_problems():
    assert check_product(WIDGET) == []
    assert check_product(dict(WIDGET, status="withdrawn", list_prices={})) == []


@pytest.mark.parametrize("change,problem", [
    ({"sku": "wid 100"}, 'sku must be text like "WID-100", not "wid 100"'),
    ({"description": ""}, "description must not be empty"),
    ({"description": "x" * 501}, "description must be at most 500 characters"),
    ({"unit": None}, 'unit is required, e.g. "each"'),
    ({"status": "gone"}, 'status must be text like "active", not "gone"'),
    ({"list_prices": [1250]}, "list_prices must be an object"),
    ({"_id": "product:WID-101"}, '_id must be "product:" + sku = "product:WID-100"'),
    ({"list_prices": {"EUR": -1}}, "list_prices.EUR must be a whole number of cents from 0 to 1000000000, e.g. 1250"),
    ({"list_prices": {"EUR": 12.5}}, "list_prices.EUR must be a whole number of cents from 0 to 1000000000, e.g. 1250"),
    ({"list_prices": {"JPY": 100}}, 'list_prices.JPY: we sell in EUR, USD, GBP, not "JPY"'),
    ({"tax_class": "luxury"}, 'tax_class must be one of standard, reduced, zero, not "luxury"'),
])
def test_product_problems(change, problem):
    assert check_product(dict(WIDGET, **change)) == [problem]


def test_several_product_problems_at_once():
    assert len(check_product(dict(WIDGET, _id="product:X", tax_class="luxury", list_prices={"JPY": 1, "EUR": -5}))) == 4


def test_a_good_price_list_has_no_problems():
    assert check_pricelist(GOLD_LIST) == []
    assert check_pricelist(plist("ACME", {}, customer="customer:C0001", valid_from="2026-01-01",
                                 valid_to="2026-01-01", prices_include_tax=True)) == []


@pytest.mark.parametrize("change,problem", [
    ({"_id": "pricelist:"}, '_id must be text like "pricelist:GOLD-2026", not "pricelist:"'),
    ({"name": ""}, "name must not be empty"),
    ({"tier": "platinum"}, 'tier must be text like "gold", not "platinum"'),
    ({"customer": "C0001"}, 'customer must be text like "customer:C0001", not "C0001"'),
    ({"valid_from": "1/1/2026"}, 'valid_from must be text like "2026-01-01", not "1/1/2026"'),
    ({"prices_include_tax": "yes"}, "prices_include_tax must be a boolean"),
    ({"items": None}, "items is required"),
    ({"currency": "JPY"}, 'currency: we sell in EUR, USD, GBP, not "JPY"'),
    ({"customer": "customer:C0001"}, "A price list is for one customer, one partner's customers or a tier, not "
                                     "several: keep one of customer, partner and tier"),
    ({"valid_from": "2026-02-30"}, 'valid_from must be a real date like "2026-01-31", not "2026-02-30"'),
    ({"valid_from": "2026-04-01", "valid_to": "2026-03-31"}, "valid_to (2026-03-31) must not be before valid_from (2026-04-01)"),
    ({"items": {"wid 100": [{"min_qty": 1, "unit_cents": 1}]}}, 'items: "wid 100" is not a product code like "WID-100"'),
    ({"items": {"WID-100": []}}, 'items.WID-100 must be a list of quantity breaks like [{"min_qty": 1, "unit_cents": 1250}]'),
    ({"items": {"WID-100": [5]}}, 'items.WID-100[0] must be a quantity break like {"min_qty": 1, "unit_cents": 1250}'),
    ({"items": {"WID-100": [{"min_qty": 0, "unit_cents": 1}]}},
     "items.WID-100[0].min_qty must be a whole number from 1 to 1000000, e.g. 10"),
    ({"items": {"WID-100": [{"min_qty": 1, "unit_cents": 1}, {"min_qty": 1, "unit_cents": 2}]}},
     "items.WID-100[1].min_qty 1 appears twice: one price per quantity"),
    ({"items": {"WID-100": [{"min_qty": 1, "unit_cents": -1}]}},
     "items.WID-100[0].unit_cents must be a whole number of cents from 0 to 1000000000, e.g. 1250"),
])
def test_price_list_problems(change, problem):
    assert check_pricelist(dict(GOLD_LIST, **change)) == [problem]
