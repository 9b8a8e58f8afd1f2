"""An order's addresses, references and currency come from the customer's profile: an order never
carries an address the profile does not hold, nor a currency other than the customer's."""
import pytest

from oms.catalog.products import Book
from oms.core.errors import InvalidInput
from oms.crm.customers import profile_from_input
from oms.identity.acl import Access
from oms.ordering.orders import new_order

SALLY = Access("sally", "author", ("[Sales]",))
NOW = "2026-11-25T10:00:00Z"
LINES = [{"sku": "WID-100", "qty": 1, "unit_price": "10.00"}]
CUSTOMER = {"_id": "customer:C0001", "type": "customer", "name": "Acme Ltd", "currency": "GBP",
            "bill_to": {"name": "Acme Ltd, Accounts", "city": "Leeds", "country": "GB"},
            "ship_tos": [{"id": "MAIN", "name": "Acme Ltd, Goods in", "city": "Leeds", "country": "GB"},
                         {"id": "DUBLIN", "name": "Acme Ireland", "city": "Dublin", "country": "IE"}]}


BOOK = Book({"WID-100": {"_id": "product:WID-100", "type": "product", "sku": "WID-100", "description": "Widget",
                         "unit": "each", "list_prices": {"GBP": 1000}, "tax_class": "standard", "status": "active"}}, ())


def build(**data):
    return new_order({"customer": "C0001", "lines": LINES, **data}, "SO-000042", SALLY, CUSTOMER, NOW, BOOK)


def test_the_first_ship_to_unless_one_is_named_and_the_bill_to_from_the_profile():
    assert build()["ship_to"]["id"] == "MAIN"
    doc = build(ship_to="dublin", customer_po="PO-77", requested_date="2026-12-20")
    assert doc["ship_to"] == CUSTOMER["ship_tos"][1]
    assert doc["bill_to"] == CUSTOMER["bill_to"]
    assert (doc["customer_po"], doc["requested_date"]) == ("PO-77", "2026-12-20")


def test_a_ship_to_the_customer_does_not_have_is_refused_with_the_ones_it_has():
    with pytest.raises(InvalidInput, match="no ship-to address 'PARIS' .theirs: MAIN, DUBLIN"):
        build(ship_to="PARIS")


def test_an_order_is_in_the_customers_currency_and_no_other():
    assert build()["currency"] == "GBP"
    assert build(currency="gbp")["currency"] == "GBP"
    with pytest.raises(InvalidInput, match="Acme Ltd buys in GBP: an order of theirs cannot be in EUR"):
        build(currency="EUR")


@pytest.mark.parametrize("data,needle", [
    ({"customer_po": "x" * 36}, "customer_po must be at most 35"),
    ({"requested_date": "20.12.2026"}, "requested_date must be text like"),
    ({"ship_to": 7}, "ship_to must be text"),
])
def test_bad_references_are_refused_with_the_field_named(data, needle):
    with pytest.raises(InvalidInput, match=needle):
        build(**data)


def test_a_profile_takes_addresses_nested_or_as_a_feeds_flat_columns():
    flat = profile_from_input({"bill_to_name": "Acme", "bill_to_city": "Leeds", "bill_to_country": "gb"})
    assert flat["bill_to"] == {"name": "Acme", "city": "Leeds", "country": "GB"}
    with pytest.raises(InvalidInput, match=r"ship_tos\[0\].id is required"):
        profile_from_input({"ship_tos": [{"name": "A", "city": "B", "country": "DE"}]})
    with pytest.raises(InvalidInput, match="each ship-to address needs an id of its own"):
        profile_from_input({"ship_tos": [{"id": "A", "name": "A", "city": "B", "country": "DE"}] * 2})
    with pytest.raises(InvalidInput, match=r"bill_to.city is required"):
        profile_from_input({"bill_to": {"name": "A", "country": "DE"}})
