"""The import/export page, API tokens and notifications in a real browser: a CSV uploaded through
the page shows its report in place (htmx), a Manager issues a token and sees it once. Screenshots
go to tests/screenshots/ for reviewers."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from .conftest import shot

pytestmark = pytest.mark.e2e


def test_an_upload_shows_what_went_in_and_what_did_not_without_leaving_the_page(page, login, tmp_path):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login("sally")
    page.click("text=Import / export")
    expect(page.locator("h1")).to_have_text("Import / export")
    page.wait_for_load_state("load")   # htmx takes the form over once the page has loaded
    t = uuid.uuid4().hex[:6]
    f = tmp_path / "orders.csv"
    f.write_text(f"external_ref,customer,sku,qty,unit_price\nE2E-{t},C0001,WID-100,2,4.50\nE2E-{t}-2,C0001,WID-100,x,4.50\n")
    page.set_input_files("input[name=file]", str(f))
    page.click("button:has-text('Import')")
    report = page.locator("#import-report .import-report")
    expect(report).to_contain_text("1 created")
    expect(report).to_contain_text("Line 1: quantity must be a whole number")
    expect(page).to_have_url(re.compile(r"/transfer$"))     # swapped in place, no navigation
    shot(page, "import-report")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_a_manager_issues_an_api_token_and_sees_it_once(page, login):
    login("mia")
    page.click("text=API tokens")
    page.fill("input[name=client]", "e2e" + uuid.uuid4().hex[:5])
    page.select_option("select[name=level]", "editor")
    page.check("input[value='[Billing]']")
    page.click("button:has-text('Issue token')")
    expect(page.locator("#new-token")).to_contain_text("odt_")
    shot(page, "api-tokens")
    page.goto("/admin/tokens")
    expect(page.locator("#new-token")).to_have_count(0)


def test_the_notifications_page_and_badge_load(page, login):
    login("carl")
    page.click("a.bell")
    expect(page.locator("h1")).to_have_text("Notifications")
    shot(page, "notifications")
