"""On the order form each line answers as the person types, without a page reload: available,
partly available (how many), or backorder. Then the placed order shows what it holds, and the
credit role finds a held order in its queue. Real Chromium, real servers."""
import re

from playwright.sync_api import expect

from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401

from .conftest import shot


def test_each_line_answers_availability_as_the_quantity_is_typed(page, login, new_sku, new_customer):
    sku, unstocked = new_sku(5), new_sku(0)
    customer = new_customer("gold", credit_limit_cents=10_000_000)
    login("sally")
    page.click("text=New order")
    page.evaluate("window.__still_the_same_page = true")  # gone if the page reloads

    page.locator("#entry-customer-q").press_sequentially(customer)
    page.locator(f"#entry-customer-matches [data-customer={customer}]").click()
    expect(page.locator("input[name=customer]")).to_have_value(customer)
    page.fill("input[name='line-0-sku']", sku)
    with page.expect_response(re.compile(r"/stock/availability\?")):
        page.locator("input[name='line-0-qty']").press_sequentially("3")
    expect(page.locator("#availability [data-line='1']")).to_have_attribute("data-status", "available")
    expect(page.locator("#availability [data-line='1']")).to_contain_text("all 3 in stock")

    page.locator("input[name='line-0-qty']").press_sequentially("0")  # 30 of 5
    expect(page.locator("#availability [data-line='1']")).to_have_attribute("data-status", "partial")
    expect(page.locator("#availability [data-line='1']")).to_contain_text("5 now, 25 on backorder")

    page.fill("input[name='line-1-sku']", unstocked)
    page.locator("input[name='line-1-qty']").press_sequentially("2")
    expect(page.locator("#availability [data-line='2']")).to_have_attribute("data-status", "backorder")
    assert page.evaluate("window.__still_the_same_page") is True
    shot(page, "order-form-availability")

    page.fill("input[name='line-0-unit_price']", "2.00")
    page.fill("input[name='line-1-unit_price']", "1.00")
    page.click("button:has-text('Place order')")
    expect(page.locator("h1")).to_contain_text(re.compile(r"SO-\d{6}"))
    expect(page.locator("h1 .status")).to_have_text("Allocated")
    expect(page.locator("table.stock-lines tbody tr").first).to_contain_text("MAIN 5")
    shot(page, "order-allocated-with-backorder")


def test_credit_sees_a_held_order_in_its_queue_and_approves_it_with_a_reason(page, login, fulfil, new_customer, new_sku):
    held = fulfil("sally").create({"customer": new_customer("gold", credit_limit_cents=1_000), "status": "submitted",
                                   "lines": [line(new_sku(10), 2, "10.00")]})
    assert held["status"] == "credit_hold"
    login("carl")
    page.goto("/views/my_queue?expand=1")
    expect(page.locator("table.view")).to_contain_text(held["number"])
    shot(page, "my-queue-credit")
    page.click(f"text={held['number']}")
    expect(page.locator(".credit-box")).to_contain_text("exceeds the credit limit 10.00")
    approve = page.locator("form:has(input[name=action][value=approve])")
    approve.locator("input[name=reason]").fill("paid up front")
    approve.locator("button").click()
    expect(page.locator("h1 .status")).to_have_text("Allocated")
    expect(page.locator(".credit-box")).to_contain_text("paid up front")
    shot(page, "order-credit-approved")


def test_a_receipt_on_the_stock_page_serves_the_waiting_order(page, login, fulfil, new_customer, new_sku):
    sku = new_sku(0)
    waiting = fulfil("sally").create({"customer": new_customer("gold"), "status": "submitted", "lines": [line(sku, 4)]})
    login("wanda")
    page.goto(f"/stock/{sku}")
    expect(page.locator("table.backorders")).to_contain_text(waiting["number"])
    page.fill("input[name=qty]", "10")
    page.click("button:has-text('Receive')")
    expect(page.locator(".notice")).to_contain_text("4 went to 1 waiting order line(s)")
    expect(page.locator("table.backorders")).to_contain_text(f"Nothing waits for {sku}")
    shot(page, "stock-after-receipt")
    page.goto("/stock")
    shot(page, "stock")
    page.goto("/customers/C0003")
    shot(page, "customer")
