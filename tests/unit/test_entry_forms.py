"""The order entry form read as the domain's input (webapp/forms.py): decimal commas by locale,
rows and blank rows, Place order versus Save as draft, and the domain's messages placed beside
the form's fields. No servers."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from oms.core.errors import InvalidInput
from oms.core.money import to_cents
from webapp.forms import (EntryForm, decimal_comma, form_to_input, messages_by_field, plain_amount, renumbered,
                          tax_rate_words)


@pytest.mark.parametrize("tag,comma", [
    ("de", True), ("de-DE", True), ("de-AT", True), ("fr-FR", True), ("fr", True), ("nl-NL", True), ("nl_BE", True),
    ("es-ES", True), ("it", True), ("pt-BR", True), ("sv", True), ("pl", True),
    ("en", False), ("en-GB", False), ("en-US", False), ("ja", False), ("zh-CN", False),
    ("de-CH", False), ("it-CH", False), ("es-MX", False),
    ("", False), (None, False), ("*", False), ("xx-YY", False),
])
def test_the_locale_decides_whether_a_comma_is_the_decimal_mark(tag, comma):
    assert decimal_comma(tag) is comma


@pytest.mark.parametrize("typed,plain", [
    ("4,20", "4.20"), ("4,2", "4.2"), ("0,05", "0.05"), (",50", "0.50"), ("4,", "4"), ("  4,20 ", "4.20"),
    ("1.234,50", "1234.50"), ("12.345.678,00", "12345678.00"), ("1 234,50", "1234.50"),
    ("1\u00a0234,50", "1234.50"), ("1\u202f234,5", "1234.5"), ("1234,50", "1234.50"),
    # a point alone stays as typed: 4.20 is read as typed, 1.234 is refused (three decimals), never 1234
    ("4.20", "4.20"), ("1.234", "1.234"), ("12", "12"), ("", ""),
    # not an amount in a comma locale either: left for the domain to refuse in its words
    ("1.23,50", "1.23,50"), ("1.234.5,00", "1.234.5,00"), ("4,2,0", "4,2,0"), ("1.234 567,00", "1.234 567,00"),
    ("x", "x"), (",", ","), ("4,20 EUR", "4,20 EUR"),
])
def test_amounts_typed_with_a_decimal_comma(typed, plain):
    assert plain_amount(typed, comma=True) == plain


@pytest.mark.parametrize("typed,plain", [
    ("4.20", "4.20"), ("1,234.50", "1234.50"), ("1,234,567.5", "1234567.5"), ("1234.50", "1234.50"),
    # a comma is never a decimal mark here, and a lone group is not guessed at
    ("4,20", "4,20"), ("4,200", "4,200"), ("1,23.50", "1,23.50"), (" 7 ", "7"),
])
def test_amounts_typed_with_a_decimal_point(typed, plain):
    assert plain_amount(typed, comma=False) == plain


def test_what_the_conversion_gives_is_what_the_domain_reads():
    assert to_cents(plain_amount("1.234,50", True), "unit price") == 123450
    assert to_cents(plain_amount("4,10", True), "unit price") == 410
    with pytest.raises(InvalidInput, match="not '4,20'"):
        to_cents(plain_amount("4,20", False), "unit price")
    with pytest.raises(InvalidInput, match="at most 2 decimals"):
        to_cents(plain_amount("1.234", True), "unit price")


def form(**fields) -> MultiDict:
    return MultiDict({k.replace("__", "-"): v for k, v in fields.items()})


def test_rows_become_lines_blank_rows_left_out_and_amounts_converted():
    f = form(customer=" C0001 ", customer_q="Acme Ltd", ship_to="EAST", shipping="9,50", notes=" ring ",
             line__0__sku="WID-100", line__0__qty="3", line__0__unit_price="4,10", line__0__description="",
             line__1__sku="", line__1__qty="", line__1__unit_price="",
             line__2__sku="GAD-310", line__2__qty="1", line__2__unit_price="", line__2__description="Gadget, blue",
             action="submit")
    entry = EntryForm.read(f, comma=True)
    assert entry.filled() == [0, 2]
    assert entry.to_input() == {
        "customer": "C0001", "status": "submitted", "ship_to": "EAST", "shipping": "9.50", "notes": "ring",
        "lines": [{"sku": "WID-100", "qty": "3", "unit_price": "4.10", "description": ""},
                  {"sku": "GAD-310", "qty": "1", "unit_price": "", "description": "Gadget, blue"}]}


def test_rows_are_read_in_their_number_order_past_twenty():
    f = form(**{f"line__{i}__sku": f"S-{i}" for i in (30, 2, 11)}, **{f"line__{i}__qty": "1" for i in (30, 2, 11)})
    assert [l["sku"] for l in form_to_input(f)["lines"]] == ["S-2", "S-11", "S-30"]


@pytest.mark.parametrize("fields,status", [
    ({"action": "submit"}, "submitted"), ({"action": "draft"}, "draft"), ({}, "draft"),
    ({"submit_now": "1"}, "submitted"), ({"action": "anything"}, "draft"),
])
def test_place_order_submits_save_as_draft_and_no_button_do_not(fields, status):
    assert form_to_input(form(customer="C0001", **fields))["status"] == status


def test_in_an_english_locale_a_comma_amount_goes_to_the_domain_as_typed():
    data = form_to_input(form(customer="C0001", line__0__sku="WID-100", line__0__qty="1", line__0__unit_price="4,20"))
    assert data["lines"][0]["unit_price"] == "4,20" and "shipping" not in data


def test_compact_puts_filled_rows_first_and_pads_with_blank_ones():
    entry = EntryForm.read(form(line__0__sku="", line__1__sku="A", line__1__qty="1", line__2__qty="x"))
    again = entry.compact(5)
    assert [r["sku"] for r in again.rows] == ["A", "", "", "", ""] and again.rows[1]["qty"] == "x"
    assert again.filled() == [0, 1] and entry.filled() == [1, 2]   # the original is unchanged


def test_messages_go_beside_their_fields_renumbered_to_the_rows():
    fields = {"customer": "unknown customer 'C9'", "lines[0].qty": "Line 1: quantity must be a whole number from 1, e.g. 3, not 'x'",
              "lines[1].sku": "Line 2: NOPE is not a product we sell", "lines[1]": "Line 2 must be an object",
              "ship_to": "Acme Ltd has no ship-to address 'X' (theirs: MAIN, EAST)", "mystery": "something else"}
    by_field, top = messages_by_field("unknown customer 'C9'", fields, rows=[0, 3])
    assert by_field == {
        "customer": "unknown customer 'C9'",
        "line-0-qty": "Line 1: quantity must be a whole number from 1, e.g. 3, not 'x'",
        "line-3-sku": "Line 4: NOPE is not a product we sell",
        "line-3": "Line 4 must be an object",
        "ship_to": "Acme Ltd has no ship-to address 'X' (theirs: MAIN, EAST)"}
    assert top == ["something else"]


def test_a_reason_without_fields_goes_to_the_top():
    assert messages_by_field("the order must be a JSON object", {}, rows=[0]) == ({}, ["the order must be a JSON object"])


def test_renumbering_touches_only_the_line_named_at_the_start():
    assert renumbered("Line 1: x", 1, 3) == "Line 3: x"
    assert renumbered("Line 1: x", 1, 1) == "Line 1: x"
    assert renumbered("Line 12: x", 1, 3) == "Line 12: x"
    assert renumbered("the order's Line 1", 1, 3) == "the order's Line 1"


def test_tax_rates_in_words():
    assert [tax_rate_words(bp) for bp in (1900, 700, 550, 0, None)] == ["19%", "7%", "5.5%", "0%", ""]
