"""Turning a person's input into an order: every bad value gets a sentence, nothing half-built."""
import pytest

from oms.core.errors import InvalidInput
from oms.core.money import to_cents
from oms.identity.acl import Access
from oms.ordering.orders import build_lines, new_order

SALLY = Access("sally", "author", ("[Sales]",))
CUSTOMER = {"_id": "customer:C0001", "name": "Acme Ltd", "type": "customer"}


def test_amounts_are_kept_in_cents_exactly():
    assert to_cents("12.50", "x") == 1250
    assert to_cents(0.1, "x") == 10
    assert to_cents("1999999.99", "x") == 199999999


@pytest.mark.parametrize("bad", ["-1", "1.234", "abc", "", None, True, "NaN", "inf"])
def test_bad_amounts_are_refused_with_the_field_named(bad):
    with pytest.raises(InvalidInput, match="unit_price"):
        to_cents(bad, "lines[0].unit_price")


def test_a_new_order_adds_up_and_names_its_creator_as_author():
    doc = new_order({"customer": "C0001", "lines": [{"sku": "wid-100", "qty": "3", "unit_price": "1.10"},
                                                    {"sku": "GAD-310", "qty": 2, "unit_price": 5}]},
                    "SO-000042", SALLY, CUSTOMER, "2026-11-25T10:00:00Z")
    assert doc["_id"] == "order:SO-000042"
    assert [l["sku"] for l in doc["lines"]] == ["WID-100", "GAD-310"]
    assert doc["totals"] == {"net_cents": 1330, "qty": 5}
    assert doc["authors"] == ["sally", "[Sales]"]
    assert doc["history"][0]["action"] == "create" and doc["history"][0]["by"] == "sally"


@pytest.mark.parametrize("data,needle", [
    ({"customer": "C0001", "lines": []}, "lines needs at least 1"),
    ({"customer": "C0001", "lines": [{"sku": "", "qty": 1, "unit_price": 1}]}, "lines[0].sku"),
    ({"customer": "C0001", "lines": [{"sku": "A", "qty": 0, "unit_price": 1}]}, "lines[0].qty"),
    ({"customer": "C0001", "lines": [{"sku": "A", "qty": 1.5, "unit_price": 1}]}, "lines[0].qty"),
    ({"customer": "C0001", "lines": [{"sku": "A", "qty": 1, "unit_price": 1}], "status": "shipped"}, "draft or submitted"),
    ({"customer": "C0001", "lines": [{"sku": "A", "qty": 1, "unit_price": 1}], "colour": "red"}, "unknown field"),
    ({"customer": "C0001", "lines": [{"sku": "A", "qty": 1, "unit_price": 1}], "promised_date": "soon"}, "promised_date"),
])
def test_bad_orders_are_refused_with_a_reason(data, needle):
    with pytest.raises(InvalidInput) as err:
        new_order(data, "SO-000042", SALLY, CUSTOMER, "2026-11-25T10:00:00Z")
    assert needle in err.value.reason


def test_lines_keep_their_order_and_numbers():
    lines = build_lines([{"sku": "B", "qty": 1, "unit_price": 1}, {"sku": "A", "qty": 2, "unit_price": 1}])
    assert [(l["line"], l["sku"]) for l in lines] == [(1, "B"), (2, "A")]
