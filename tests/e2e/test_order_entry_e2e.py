"""Order entry as a sales clerk does it, in Debian's Chromium against the real app and servers:
find the customer as one types (with their credit state), pick their ship-to, pick products,
watch the totals with tax follow, add and remove lines, see every problem beside its field at
once, type prices with a decimal comma in a German browser, place an order with Enter (the
default button) and save a draft with the explicit one. Demo data: Acme Ltd (C0001) is a gold
customer in Hamburg (DE, 19%); the GOLD list sells WID-100 at 4.20, 3.95 from 20."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from oms.core.money import format_cents
from oms.crm.customers import CustomerService
from tests.fulfilment_fixtures import agent, fulfil  # noqa: F401

from .conftest import new_page, shot, sign_in

CREDIT_WORDS = {"ok": "Credit OK", "over": "Over the limit", "hold": "On credit hold"}


def acme_credit_words(agent) -> str:
    """What the page should say of Acme's credit, asked of the CRM directly."""
    acme = next(c for c in CustomerService(agent.db, agent.access).search("C0001", 5) if c["id"] == "C0001")
    credit = acme["credit"]
    if credit["state"] == "near":
        return f"Near the limit: {format_cents(credit['free_cents'])} EUR free"
    return CREDIT_WORDS[credit["state"]]


def choose_acme(page, agent):
    page.locator("#entry-customer-q").press_sequentially("acm")
    page.locator("#entry-customer-q").press("Enter")   # searches; it does not place the order
    match = page.locator("#entry-customer-matches [data-customer=C0001]")
    expect(match).to_contain_text("Acme Ltd")
    expect(match).to_contain_text("C0001")
    expect(match.locator(".credit-badge")).to_have_text(acme_credit_words(agent))
    match.click()
    expect(page.locator("input[name=customer]")).to_have_value("C0001")
    expect(page.locator("#entry-customer .entry-chosen")).to_contain_text("Acme Ltd")


def pick_product(page, row: int, typed: str, sku: str, screenshot: str | None = None):
    page.locator(f"#line-{row}-sku").press_sequentially(typed)
    match = page.locator(f"#line-{row}-matches [data-sku='{sku}']")
    expect(match).to_be_visible()
    if screenshot:
        shot(page, screenshot)
    match.click()
    expect(page.locator(f"#line-{row}-sku")).to_have_value(sku)


def sku_rows(page):
    return page.locator("#entry-lines input[name$='-sku']")


def test_a_clerk_enters_an_order_with_pickers_running_totals_and_places_it_with_enter(page, login, agent, fulfil):
    login("sally")
    page.click("text=New order")
    expect(page.locator("h1")).to_have_text("New order")
    expect(sku_rows(page)).to_have_count(5)
    expect(page.locator("#entry-lines")).to_contain_text("an order may hold up to 500 lines")
    page.evaluate("window.__still_the_same_page = true")  # gone if the page reloads

    choose_acme(page, agent)
    ship_to = page.locator("select[name=ship_to]")
    expect(ship_to.locator("option")).to_have_text([re.compile(r"^Acme Ltd, Goods in, .*Hamburg, DE$"),
                                                     re.compile(r"^Acme Ltd, East depot, 7 Depot Road, 04109 Leipzig, DE$")])
    expect(page.locator("#entry-currency")).to_have_text("EUR")
    expect(page.locator("#entry-form [name=currency]")).to_have_count(0)   # shown, not chosen

    pick_product(page, 0, "wid", "WID-100")
    expect(page.locator("#line-0-description")).to_have_value("Widget, small")
    expect(page.locator("#line-0-qty")).to_have_value("1")
    expect(page.locator("#line-0-qty")).to_be_focused()
    line = page.locator("#entry-totals tr[data-sku='WID-100']")
    expect(line).to_contain_text("Price list: Gold customers")
    expect(line.locator("[data-unit-price]")).to_have_text("4.20")
    expect(line.locator("[data-tax-rate]")).to_have_text("19%")
    expect(page.locator("#entry-totals [data-total=gross]")).to_have_text("5.00 EUR")

    page.locator("#line-0-qty").fill("20")   # the quantity break: 3.95 from 20
    expect(line.locator("[data-unit-price]")).to_have_text("3.95")
    expect(line.locator("[data-amount]")).to_have_text("79.00")
    expect(page.locator("#entry-totals [data-total=tax]")).to_have_text("15.01 EUR")
    expect(page.locator("#entry-totals [data-total=gross]")).to_have_text("94.01 EUR")

    pick_product(page, 1, "gadg", "GAD-310", screenshot="order-entry-product-picker")
    expect(page.locator("#entry-totals tr[data-sku='GAD-310'] [data-unit-price]")).to_have_text("36.90")
    expect(page.locator("#entry-totals [data-total=gross]")).to_have_text("137.92 EUR")   # 94.01 + 36.90 + 7.01

    page.click("button:has-text('Add line')")
    expect(sku_rows(page)).to_have_count(6)
    expect(page.locator("#line-5-sku")).to_be_focused()
    page.click("button[aria-label='Remove line 2']")
    expect(sku_rows(page)).to_have_count(5)
    expect(page.locator("#line-1-sku")).to_have_value("")
    expect(page.locator("#entry-totals tr[data-sku='GAD-310']")).to_have_count(0)
    expect(page.locator("#entry-totals [data-total=gross]")).to_have_text("94.01 EUR")

    ship_to.select_option("EAST")
    page.fill("input[name=customer_po]", "PO-4711")
    page.fill("input[name=requested_date]", "2027-02-01")
    page.locator("textarea[name=notes]").press_sequentially("gate 3")
    expect(page.locator("#entry-notes-limit")).to_have_text("6 of 4,000 characters")
    assert page.evaluate("window.__still_the_same_page") is True
    shot(page, "order-entry")

    page.locator("input[name=customer_po]").press("Enter")   # Place order is the form's default button
    expect(page.locator("h1")).to_contain_text(re.compile(r"SO-\d{6}"))
    number = re.search(r"SO-\d{6}", page.locator("h1").inner_text()).group(0)
    expect(page.locator("h1 .status")).not_to_have_text(re.compile("Draft|Price approval"))
    doc = fulfil("sally").get(number)
    assert doc["status"] not in ("draft", "price_approval") and doc["ship_to"]["id"] == "EAST"
    assert [(l["sku"], l["qty"], l["unit_price_cents"]) for l in doc["lines"]] == [("WID-100", 20, 395)]
    assert doc["customer_po"] == "PO-4711" and doc["requested_date"] == "2027-02-01" and doc["notes"] == "gate 3"
    assert doc["totals"]["gross_cents"] == 9401
    shot(page, "order-entry-placed")


def test_a_bad_quantity_and_an_unknown_product_are_shown_beside_their_fields_at_once(page, login, agent):
    login("sally")
    page.goto("/orders/new")
    choose_acme(page, agent)
    page.fill("#line-0-sku", "WID-100")
    page.fill("#line-0-qty", "x")
    page.fill("#line-1-sku", "NOPE-9")
    page.fill("#line-1-qty", "2")
    expect(page.locator("#entry-totals")).to_contain_text("Not priced yet")
    page.click("button:has-text('Place order')")

    expect(page.locator("#msg-line-0-qty")).to_have_text("Line 1: quantity must be a whole number from 1, e.g. 3, not 'x'")
    expect(page.locator("#msg-line-1-sku")).to_have_text("Line 2: NOPE-9 is not a product we sell")
    expect(page.locator("[role=alert]")).to_contain_text("2 things need your attention")
    expect(page.locator("#line-0-qty")).to_have_value("x")
    expect(page.locator("#line-0-qty")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#line-1-sku")).to_have_value("NOPE-9")
    expect(page.locator("#line-1-qty")).to_have_value("2")
    expect(page.locator("input[name=customer]")).to_have_value("C0001")
    expect(page.locator("#entry-customer .entry-chosen")).to_contain_text("Acme Ltd")
    assert "lines[" not in page.locator("main").inner_text()
    shot(page, "order-entry-refused")

    page.fill("#line-0-qty", "2")
    page.fill("#line-1-sku", "")
    page.fill("#line-1-qty", "")
    page.click("button:has-text('Place order')")
    expect(page.locator("h1")).to_contain_text(re.compile(r"SO-\d{6}"))


def test_a_german_browser_types_prices_with_a_decimal_comma_and_saves_a_draft(browser, live_url, agent, fulfil):
    ctx, page = new_page(browser, live_url, locale="de-DE")
    try:
        sign_in(page, "sally")
        page.goto("/orders/new")
        expect(page.locator("#entry-lines-hint")).to_contain_text("4,20 or 1.234,50")
        choose_acme(page, agent)
        pick_product(page, 0, "wid", "WID-100")
        page.fill("#line-0-qty", "3")
        page.fill("#line-0-unit_price", "4,10")
        line = page.locator("#entry-totals tr[data-sku='WID-100']")
        expect(line.locator("[data-unit-price]")).to_have_text("4.10")
        expect(line).to_contain_text("Your price (Price list: Gold customers: 4.20)")
        expect(line.locator("[data-amount]")).to_have_text("12.30")
        shot(page, "order-entry-decimal-comma")

        page.click("button:has-text('Save as draft')")
        expect(page.locator("h1 .status")).to_have_text("Draft")
        number = re.search(r"SO-\d{6}", page.locator("h1").inner_text()).group(0)
        doc = fulfil("sally").get(number)
        assert doc["status"] == "draft"
        assert [(l["sku"], l["qty"], l["unit_price_cents"]) for l in doc["lines"]] == [("WID-100", 3, 410)]
        expect(page.locator("table.lines")).to_contain_text("4.10")
    finally:
        ctx.close()
