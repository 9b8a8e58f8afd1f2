"""A person signs in, sees All orders, places an order on the form and lands on its page, in a
real browser. The screenshots go to tests/screenshots/ for reviewers."""
import re

from playwright.sync_api import expect

from .conftest import shot


def test_sign_in_view_orders_and_place_one(page, login):
    login("sally")
    expect(page).to_have_url(re.compile(r"/views/all_orders"))
    expect(page.locator("table.view tbody tr").first).to_contain_text("SO-")
    shot(page, "all-orders")

    page.click("text=New order")
    page.locator("#entry-customer-q").press_sequentially("C0003")
    page.locator("#entry-customer-matches [data-customer=C0003]").click()
    expect(page.locator("input[name=customer]")).to_have_value("C0003")
    page.fill("input[name='line-0-sku']", "WID-200")
    page.fill("input[name='line-0-qty']", "6")
    page.fill("input[name='line-0-unit_price']", "12.00")
    shot(page, "order-form")
    page.click("button:has-text('Save as draft')")
    expect(page.locator("h1")).to_contain_text(re.compile(r"SO-\d{6}"))
    expect(page.locator("table.lines")).to_contain_text("72.00")
    expect(page.locator(".actionbar")).to_contain_text("Submit")
    shot(page, "order")


def test_a_wrong_password_shows_the_reason_on_the_login_page(page, login):
    login("sally", "nope")
    expect(page.locator(".error")).to_have_text("Wrong user name or password.")


def test_no_page_loads_a_script_from_elsewhere(page, login):
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    login("rita")
    page.wait_for_load_state("networkidle")
    assert seen and all(u.startswith(page.url.split("/views")[0]) for u in seen), seen
