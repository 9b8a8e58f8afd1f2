"""In a real browser (Debian's Chromium through Playwright): a partner places an order on the
partner pages, and a manager compares an order's competing versions side by side and merges them
field by field. Screenshots go to tests/screenshots/ for reviewers."""
import re
import threading

import pytest

from tests.e2e.conftest import ARGS, CHROMIUM, serving, shot

from .conftest import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live(rapp):
    yield from serving(rapp)


def in_browser(live: str, steps):
    """Run `steps(page)` in Chromium, in a thread of its own: the suite's other browser tests keep
    a Playwright (sync API) running for the whole session, and a second one cannot share their
    thread. Exceptions and assertion failures come back to the test."""
    from playwright.sync_api import sync_playwright
    outcome = {}

    def run():
        try:
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                try:
                    pg = b.new_context(base_url=live, viewport={"width": 1280, "height": 800}).new_page()
                    pg.set_default_timeout(10_000)
                    outcome["value"] = steps(pg)
                finally:
                    b.close()
        except BaseException as exc:  # noqa: BLE001 (handed back to the test)
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="chromium")
    worker.start()
    worker.join(120)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def test_a_partner_places_an_order_in_the_browser(live, central_admin):
    number = in_browser(live, partner_places_an_order)
    eventually(lambda: central_admin.get_or_none(f"order:{number}"), what="the order reaches the centre")


def partner_places_an_order(page):
    from playwright.sync_api import expect
    page.goto("/partner/login")
    page.fill("input[name=username]", "alice@acme")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Your orders")
    shot(page, "partner-orders")
    page.click("text=Place an order")
    page.select_option("select[name=customer]", "customer:ACME-01")
    page.fill("input[name='line-0-sku']", "GAD-310")
    page.fill("input[name='line-0-qty']", "3")
    page.fill("input[name='line-0-unit_price']", "39.90")
    page.click("button:has-text('Place the order')")
    expect(page.locator("h1")).to_contain_text(re.compile(r"SO-ACME-\d{6}"))
    expect(page.locator("table.lines")).to_contain_text("119.70")
    shot(page, "partner-order")
    return re.search(r"SO-ACME-\d{6}", page.locator("h1").inner_text()).group(0)


def test_a_manager_merges_competing_versions_field_by_field(live, central_admin, staff):
    order = staff("sally").create({"customer": "C0001", "status": "submitted", "notes": "as placed",
                                   "lines": [{"sku": "WID-100", "qty": 2, "unit_price": "4.50"}]})
    base = central_admin.get(order["_id"])
    staff("mia").act(order["number"], "edit", changes={"notes": "at the centre", "priority": 2})
    # What an offline site sent for the same revision (as its replication writes: admin, new_edits=false).
    theirs = dict({k: v for k, v in base.items() if k != "_rev"}, notes="at the branch", promised_date="2026-12-24",
                  updated_by="sally")
    theirs["history"] = base["history"] + [{"at": "2026-11-25T12:00:00Z", "by": "sally", "action": "edit",
                                            "from": "submitted", "to": "submitted", "changes": ["notes", "promised_date"]}]
    theirs["_rev"] = "2-" + "0" * 32
    theirs["_revisions"] = {"start": 2, "ids": ["0" * 32, base["_rev"].split("-")[1]]}
    central_admin.bulk([theirs], new_edits=False)
    in_browser(live, lambda page: merge_in_the_browser(page, order, theirs["_rev"]))
    merged = central_admin.get(order["_id"], conflicts=True)
    assert not merged.get("_conflicts") and merged["priority"] == 2 and merged["notes"] == "at the branch"


def merge_in_the_browser(page, order, their_rev):
    from playwright.sync_api import expect
    page.goto("/login")
    page.fill("input[name=username]", "mia")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.goto("/views/conflicts")
    page.click(f"text={order['number']}")
    expect(page.locator(".notice")).to_contain_text("competing versions")
    page.click("text=Compare them side by side")
    expect(page.locator("table.versions")).to_contain_text("at the branch")
    shot(page, "conflict-versions")
    page.check(f"input[name='field:notes'][value='{their_rev}']")
    page.click("button:has-text('Merge the chosen fields')")
    expect(page.locator("h1")).to_contain_text(order["number"])
    expect(page.locator(".notice")).to_have_count(0)
    expect(page.locator(".fields")).to_contain_text("at the branch")
    expect(page.locator(".fields")).to_contain_text("2026-12-24")
    shot(page, "conflict-merged")
