"""From placement to closing in Debian's Chromium against the real app and servers: an order
shipped in two parts is invoiced twice from its page, paid in part from the payment form, partly
returned (one unit refunded, one replaced) through the return form and the warehouse's, billing's
and shipping's buttons, paid in full, and closed. The printed pages (invoice, credit note,
packing slip, pick list) are kept as images under tests/screenshots/, drawn with print media."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401

from .conftest import shot


def paper(page, name: str) -> None:
    page.emulate_media(media="print")
    shot(page, name)
    page.emulate_media(media="screen")


def test_an_order_from_two_shipments_to_two_invoices_a_return_and_closing(page, login, fulfil, new_customer, new_sku):
    def as_(name: str):   # each person at their own desk: a fresh sign-in
        page.context.clear_cookies()
        login(name)

    asked = []   # the steps that cannot be undone ask first; the clerk says yes

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()
    page.on("dialog", answer)

    x, y = new_sku(10), new_sku(10)
    cid = new_customer("gold", name="Harbour Supplies GmbH",
                       ship_tos=[{"id": "MAIN", "name": "Harbour Supplies, Goods in", "street": "3 Pier Road",
                                  "city": "Hamburg", "postcode": "20457", "country": "DE"}])
    order = fulfil("sally").create({"customer": cid, "status": "submitted", "customer_po": "PO-E2E-1",
                                    "shipping": "5.00", "lines": [line(x, 4, "10.00"), line(y, 2, "25.00")]})
    number = order["number"]
    fulfil("wanda").act(number, "pick")

    as_("wanda")
    page.goto("/warehouses/MAIN/pick-list")
    expect(page.locator("h1")).to_have_text("Pick list")
    expect(page.locator("table.items")).to_contain_text(number)
    paper(page, "print-pick-list")

    fulfil("sam").ship(number, "MAIN", [{"line": 1, "qty": 4}], carrier="DHL", tracking="JD014600")
    as_("bill")
    page.goto(f"/orders/{number}")
    page.click("button:has-text('Invoice what has shipped')")
    invoices = page.locator("section.invoices tbody tr")
    expect(invoices).to_have_count(1)
    expect(invoices.first).to_contain_text("53.55")          # (40.00 + 5.00 shipping) x 1.19
    fulfil("sam").ship(number, "MAIN", [{"line": 2, "qty": 2}])
    page.reload()
    page.click(".actionbar button:text-is('Invoice')")
    expect(invoices).to_have_count(2)
    expect(page.locator(".order-head .status")).to_have_text("Invoiced")
    first, second = [invoices.nth(i).locator("a").first.inner_text() for i in range(2)]

    # a partial payment from the invoice's page
    page.click(f"text={first}")
    expect(page.locator("h1")).to_have_text("Invoice")
    paper(page, "print-invoice")
    page.click("text=Record a payment")
    page.fill("#pay-amount", "20")
    page.click("button:has-text('Record payment')")
    expect(page.locator(".state")).to_have_text("Partly paid")

    # the customer sends one of line 1 back for a refund and one of line 2 for a replacement
    as_("sally")
    page.goto(f"/orders/{number}")
    page.click("text=Request a return")
    page.fill("#qty-1", "1")
    page.select_option("#reason-1", "damaged")
    page.select_option("#outcome-1", "refund")
    page.fill("#qty-2", "7")                                  # more than shipped: said beside the field
    page.select_option("#reason-2", "wrong_item")
    page.select_option("#outcome-2", "replace")
    page.click("button:has-text('Request return')")
    expect(page.locator("#qty-2-error")).to_contain_text("from 1 to 2")
    page.fill("#qty-2", "1")
    page.click("button:has-text('Request return')")
    expect(page.locator(".order-head .status")).to_have_text("Return requested")
    rma = re.search(r"RMA-\d{6}", page.locator("section.returns").inner_text()).group(0)

    as_("wanda")
    page.goto(f"/orders/{number}")
    page.click("section.returns button:has-text('Receive return')")
    expect(page.locator("section.returns")).to_contain_text("back in QUARANTINE")
    as_("bill")
    page.goto(f"/orders/{number}")
    page.click("section.returns button:has-text('Refund')")
    expect(page.locator("section.returns")).to_contain_text("credit note CN-")
    page.click("section.returns a:has-text('credit note')")
    expect(page.locator("h1")).to_have_text("Credit note")
    expect(page.locator("body")).to_contain_text(rma)
    paper(page, "print-credit-note")
    as_("sam")
    page.goto(f"/orders/{number}")
    page.click("section.returns button:has-text('Send replacement')")
    expect(page.locator(".order-head .status")).to_have_text("Replaced")
    page.click("ul.shipments li:last-child a:has-text('Packing slip')")
    expect(page.locator("h1")).to_have_text("Packing slip")
    paper(page, "print-packing-slip")

    # what is still due on both invoices, paid oldest first: the order closes
    due = sum(fulfil("bill").billing().get(n)["unpaid_cents"] for n in (first, second))
    as_("bill")
    page.goto(f"/payments/new?customer={cid}")
    page.fill("#pay-amount", f"{due / 100:.2f}")
    page.click("button:has-text('Record payment')")
    expect(page.locator("body")).to_contain_text("Nothing is due on this invoice")
    page.goto(f"/orders/{number}")
    expect(page.locator(".order-head .status")).to_have_text("Closed")
    expect(page.locator("section.invoices")).not_to_contain_text("Open")
    shot(page, "order-closed-with-invoices-and-return")
    assert [q.split("?")[0] for q in asked] == ["Invoice what has shipped", "Issue the invoice", "Record the payment",
                                                "Refund the return", "Ship the replacement now", "Record the payment"]


def test_a_step_that_cannot_be_undone_asks_first_and_no_means_nothing_happens(page, login, fulfil, new_customer,
                                                                             new_sku):
    order = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(new_sku(3), 1)]})
    login("sally")
    page.goto(f"/orders/{order['number']}")
    cancel = page.locator("form:has(input[name=action][value=cancel])")
    cancel.locator("input[name=reason]").fill("customer rang")
    page.once("dialog", lambda d: d.dismiss())
    cancel.locator("button").click()
    # said no: the submit handler stopped the form before anything was sent
    assert fulfil("sally").get(order["number"])["status"] == order["status"]
    expect(page.locator(".order-head .status")).not_to_have_text("Cancelled")
    page.once("dialog", lambda d: d.accept())
    cancel.locator("button").click()
    expect(page.locator(".order-head .status")).to_have_text("Cancelled")
