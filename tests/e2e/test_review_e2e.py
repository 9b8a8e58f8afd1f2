"""The Review page in headless Chromium: the charts render (no CSP refusal, no script error), a
chart mark opens the orders behind it, the filters narrow the figures. Screenshots: review.png
and review-filtered.png in tests/screenshots/."""
import re

import pytest
from playwright.sync_api import expect

from tests.reviewdata import write_review_orders

from .conftest import shot

RANGE = "grain=m&from=2021-01&to=2021-01&warehouse=RVW"


@pytest.fixture(scope="module")
def review_orders(seeded, admin_db):
    write_review_orders(admin_db)


def test_the_review_draws_its_charts_and_a_mark_opens_the_orders_behind_it(page, login, review_orders, console_errors):
    login("mia")
    page.click("#navigator a:has-text('Review')")
    expect(page.locator("h1")).to_have_text("Review")
    page.goto(f"/review?{RANGE}")
    expect(page.locator("svg.chart")).to_have_count(7)
    expect(page.locator("#fig-e2e + table")).to_contain_text("Placed → shipped")
    shot(page, "review")
    # the histogram's tallest column: the orders placed -> shipped in that time
    page.locator("section:has(#fig-dist) svg a").first.click()
    expect(page).to_have_url(re.compile(r"/review/orders\?.*what=e2e"))
    expect(page.locator("table.view tbody a.doc-link").first).to_contain_text("SO-RVW-")
    page.go_back()
    # the late picking order, from the SLA bar
    page.locator("section:has(#fig-sla) svg a").nth(2).click()
    expect(page.locator("table.view tbody")).to_contain_text("SO-RVW-000008")
    assert console_errors == []


def test_the_filters_narrow_the_review_and_a_bad_one_says_why(page, login, review_orders, console_errors):
    login("mia")
    page.goto(f"/review?{RANGE}")
    page.select_option("select[name=grain]", "w")
    page.fill("input[name=from]", "2021-01-04")
    page.fill("input[name=to]", "2021-01-18")
    page.select_option("select[name=function]", "[Shipping]")
    page.click("form.review-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"function=%5BShipping%5D"))
    expect(page.locator("#fig-stages + table")).to_contain_text("Picking")
    expect(page.locator("#fig-stages + table")).not_to_contain_text("Allocated")
    shot(page, "review-filtered")
    assert console_errors == []
    # a bad filter: the page answers 400 and says why, beside the filters to correct it
    page.fill("input[name=from]", "2021-13")
    page.click("form.review-filters button[type=submit]")
    expect(page.locator("#review-pane .error")).to_contain_text("from must be")
    expect(page.locator("input[name=from]")).to_have_value("2021-13")
