"""A working session at the desk in headless Chromium: sign in, open a categorized view, expand a
category, page forward, re-sort, search, open an order, take an action, see another person's
change appear live, export CSV, look at the dashboard, on a laptop and a phone, by keyboard.
Screenshots of the main pages go to tests/screenshots/."""
import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.viewdata import bulk_orders

from .conftest import shot, sign_in

DOCS = "table.view tbody tr.doc a.doc-link"


@pytest.fixture(scope="module")
def many_orders(seeded, admin_db, service):
    """Enough orders for All orders to have a second page (50 a page), and one to act on."""
    bulk_orders(admin_db, 60, seed=11)
    order = service("sally").create({"customer": "C0002", "lines": [{"sku": "GAD-310", "qty": 3, "unit_price": "39.90"}],
                                     "status": "submitted", "promised_date": "2099-06-01"})
    return order["number"]


def numbers(page):
    return page.locator(DOCS).all_inner_texts()


def test_a_person_works_through_the_desk_in_a_real_browser(page, login, browser, live_url, many_orders, console_errors):
    number = many_orders
    login("mia")
    expect(page).to_have_url(re.compile(r"/views/all_orders"))
    expect(page.locator("#navigator .nav-count[data-view=all_orders]")).to_have_text(re.compile(r"^\d+$"))
    shot(page, "desk-all-orders")

    # a categorized view: collapsed, then one category expanded in place (no page load)
    page.click("#navigator a:has-text('By status')")
    expect(page.locator("a.twisty").first).to_be_visible()
    assert numbers(page) == []
    page.evaluate("window.__sameDocument = true")
    shot(page, "by-status-collapsed")
    page.click("a.twisty:has-text('Submitted')")
    expect(page.locator("a.twisty:has-text('Submitted')")).to_have_attribute("aria-expanded", "true")
    expect(page.locator(DOCS).first).to_be_visible()
    assert number in numbers(page)
    assert page.evaluate("window.__sameDocument") is True
    expect(page).to_have_url(re.compile(r"open="))
    shot(page, "by-status-expanded")

    # page forward, by key
    page.click("#navigator a:has-text('All orders')")
    first_page = numbers(page)
    assert len(first_page) == 50
    page.click(".pager a[rel=next]")
    expect(page).to_have_url(re.compile(r"after="))
    expect(page.locator(DOCS).first).not_to_have_text(first_page[0])
    second = numbers(page)
    assert second and second[0] > first_page[-1] and second == sorted(second)

    # re-sort by a column backed by a sorted design view, then the other way
    page.click("th a.sort:has-text('Customer')")
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Customer")
    customers = page.locator("table.view tbody tr.doc td:nth-child(2)").all_inner_texts()
    assert customers == sorted(customers, key=lambda c: re.sub(r"[^a-z0-9]", "", c.lower()))
    page.click("th a.sort:has-text('Customer')")
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Customer")
    shot(page, "all-orders-by-customer-descending")

    # active search: results as one types, no Enter
    page.fill("#q", "")
    page.type("#q", number[-4:], delay=40)
    expect(page).to_have_url(re.compile(r"/search\?q="))
    expect(page.locator(f"{DOCS}:has-text('{number}')")).to_be_visible()
    shot(page, "search")

    # open the order and take an action from its action bar
    page.click(f"{DOCS}:has-text('{number}')")
    expect(page.locator("h1")).to_contain_text(number)
    expect(page.locator("#navigator")).to_be_visible()  # the navigator is on every page
    page.click(".actionbar button:has-text('Approve credit')")
    # approval hands the order on: the warehouse hand-off allocates at once when it can
    expect(page.locator("h1 .status")).to_have_text(re.compile(r"^(Approved|Allocated)$"))
    stage = page.locator("h1 .status").inner_text().strip()
    shot(page, "order-approved")

    # another person's change shows up live in an open view, without a reload
    page.goto("/views/by_status")
    page.click(f"a.twisty:has-text('{stage}')")
    expect(page.locator(f"{DOCS}:has-text('{number}')")).to_be_visible()
    held_before = int(page.locator("a.twisty:has-text('On hold') + .cat-count").inner_text() or 0) \
        if page.locator("a.twisty:has-text('On hold')").count() else 0
    page.evaluate("window.__sameDocument = true")
    other = browser.new_context(base_url=live_url)
    carl = sign_in(other.new_page(), "carl")
    carl.goto(f"/orders/{number}")
    carl.fill("input[aria-label='Reason for Put on hold']", "customer called")
    carl.click(".actionbar button:has-text('Put on hold')")
    expect(carl.locator("h1 .status")).to_have_text("On hold")
    other.close()
    expect(page.locator(f"{DOCS}:has-text('{number}')")).to_have_count(0, timeout=6000)
    expect(page.locator("a.twisty:has-text('On hold') + .cat-count")).to_have_text(str(held_before + 1), timeout=6000)
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "by-status-live")

    # export the view as CSV, with what the pane shows
    with page.expect_download() as dl:
        page.click(".actionbar a:has-text('Export CSV')")
    text = open(dl.value.path(), encoding="utf-8").read()
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:2] == ["Number", "Customer"] and len(table) > 60
    assert any(r[0] == number for r in table[1:])

    # the dashboard
    page.click("#navigator a:has-text('Dashboard')")
    expect(page.locator("svg.chart")).to_have_count(4)
    shot(page, "dashboard")
    assert console_errors == []  # no CSP refusal, no script error on any page


def test_the_desk_works_from_the_keyboard(page, login, many_orders):
    login("rita")
    expect(page).to_have_url(re.compile(r"/views/all_orders"))
    page.wait_for_load_state("load")
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    first = page.locator(DOCS).first
    expect(first).to_be_focused()
    target = first.inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(target)
    page.go_back()
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"after="))
    # a twisty opens from the keyboard and keeps the focus after the pane is redrawn
    page.goto("/views/by_status")
    page.keyboard.press("j")
    twisty = page.locator("a.twisty").first
    expect(twisty).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("a.twisty").first).to_have_attribute("aria-expanded", "true")
    expect(page.locator("a.twisty").first).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator(DOCS).first).to_be_focused()
    # "?" lists the shortcuts; Escape closes the list
    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    expect(page.locator("#keys-help")).to_contain_text("Next and previous document in a view")
    page.keyboard.press("Escape")
    expect(page.locator("#keys-help")).to_be_hidden()
    page.click("#keys-open")
    expect(page.locator("#keys-help")).to_be_visible()
    page.click("#keys-close")
    expect(page.locator("#keys-help")).to_be_hidden()


def test_the_desk_reads_on_a_phone(browser, live_url, many_orders):
    ctx = browser.new_context(base_url=live_url, viewport={"width": 390, "height": 844}, is_mobile=True,
                              has_touch=True)
    page = sign_in(ctx.new_page(), "wanda")
    page.goto("/views/by_status?expand=1")
    expect(page.locator(DOCS).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert not page.locator("th.wide").first.is_visible()
    shot(page, "phone-by-status")
    page.goto("/dashboard")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "phone-dashboard")
    ctx.close()


def test_a_view_says_when_its_live_updates_stop_because_the_session_ended(page, login, many_orders):
    login("rita")
    expect(page).to_have_url(re.compile(r"/views/all_orders"))
    expect(page.locator("#live")).to_have_count(1)
    page.context.clear_cookies()                      # the session ends (signed out elsewhere, or expired)
    alert = page.locator("#signed-out")
    expect(alert).to_contain_text("Live updates stopped: your session ended", timeout=10_000)
    expect(page.locator("#live")).to_have_count(0)    # no more polling
    alert.locator("a").click()
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fviews%2Fall_orders"))


SMALLEST_TEXT = """() => Math.min(...[...document.querySelectorAll('svg.chart text')].map(t =>
    parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a))"""


@pytest.mark.parametrize("width", [1024, 1280, 1600, 390])
def test_the_dashboard_reads_at_the_usual_widths_with_money_and_units(browser, live_url, many_orders, width):
    ctx = browser.new_context(base_url=live_url, viewport={"width": width, "height": 900})
    page = sign_in(ctx.new_page(), "rita")
    page.goto("/dashboard")
    expect(page.locator("svg.chart")).to_have_count(4)
    # every label as a person sees it: no smaller than 12 px, however the chart is scaled
    assert page.evaluate(SMALLEST_TEXT) >= 12
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    stages, ageing, backlog, flow = (page.locator(f"section[aria-labelledby={f}]").text_content()
                                     for f in ("fig-stages", "fig-ageing", "fig-backlog", "fig-throughput"))
    money = re.compile(r"[A-Z]{3} \d[\d,]*\.\d\d")
    # the value of each stage and of the period shown, in the orders' currency, as views write money
    assert money.search(stages) and money.search(flow) and money.search(ageing)
    # every axis and figure says what it counts
    assert "orders" in stages and "orders" in ageing and "days" in ageing and "units" in backlog
    assert "orders" in flow and "Day" in flow
    shot(page, f"dashboard-{width}")
    ctx.close()


def test_my_queue_opens_with_the_work_in_sight_and_still_collapses(page, login, many_orders):
    login("wanda")
    page.goto("/views/my_queue")
    twisty = page.locator("a.twisty")
    expect(twisty).to_have_count(1)                     # one role, one category ...
    expect(twisty).to_have_attribute("aria-expanded", "true")   # ... open at once
    expect(twisty.locator("xpath=..")).to_contain_text("Warehouse")   # the role as the desk says it
    expect(twisty.locator("xpath=..")).not_to_contain_text("[Warehouse]")
    expect(page.locator(DOCS).first).to_be_visible()
    shot(page, "my-queue-warehouse")
    twisty.click()                                      # closing it is the person's choice, and stays
    expect(page.locator("a.twisty")).to_have_attribute("aria-expanded", "false")
    expect(page.locator(DOCS)).to_have_count(0)
    page.reload()
    expect(page.locator("a.twisty")).to_have_attribute("aria-expanded", "false")
    page.locator("a.twisty").click()
    expect(page.locator(DOCS).first).to_be_visible()
    page.click(".actionbar a:has-text('Collapse all')")
    expect(page.locator("a.twisty")).to_have_attribute("aria-expanded", "false")
    expect(page.locator(DOCS)).to_have_count(0)


def test_a_manager_sees_every_role_of_the_queue_open(page, login, many_orders):
    login("mia")
    page.goto("/views/my_queue")
    twisties = page.locator("a.twisty")
    expect(twisties.first).to_be_visible()
    assert twisties.count() > 1
    for i in range(twisties.count()):
        expect(twisties.nth(i)).to_have_attribute("aria-expanded", "true")


def test_a_categorized_view_with_a_few_documents_opens_them(page, login, many_orders):
    login("rita")
    page.goto("/views/backorders")                       # a handful of lines wait for stock
    twisties = page.locator("a.twisty")
    expect(twisties.first).to_be_visible()
    for i in range(twisties.count()):
        expect(twisties.nth(i)).to_have_attribute("aria-expanded", "true")
    expect(page.locator(DOCS).first).to_be_visible()
    page.goto("/views/by_status")                        # 73 orders in many stages: the person chooses
    expect(page.locator("a.twisty").first).to_have_attribute("aria-expanded", "false")
    expect(page.locator(DOCS)).to_have_count(0)


def test_a_refused_step_leads_back_to_its_order(page, login, many_orders):
    number = many_orders
    login("mia")
    page.goto(f"/orders/{number}")
    form = page.locator("form[action$='/act']").first
    expect(form).to_be_visible()
    # a step the order does not have (what a stale page or a crafted form would send)
    form.locator("input[name=action]").evaluate("el => el.value = 'no-such-step'")
    page.on("dialog", lambda d: d.accept())   # a step that cannot be undone asks first
    form.locator("button").click()
    back = page.locator(f"a:has-text('Back to order {number}')")
    expect(back).to_be_visible()
    expect(page.locator("[role=alert]")).to_contain_text('An order has no step called "no-such-step"')
    expect(page.locator("[role=alert]")).not_to_contain_text("ask_price_approval")   # no internal names
    expect(page.locator("a:has-text('Back to the desk')")).to_be_visible()
    shot(page, "error-back-to-order")
    back.click()
    expect(page).to_have_url(re.compile(rf"/orders/{number}$"))
