"""The CRM/WMS pages through the real app: the order form's availability fragment (what htmx asks
for as one types), stock and customer pages with their forms for the roles that own them, the
order page's stock table and ship form."""
from __future__ import annotations

import re

from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401


def test_the_availability_fragment_answers_each_line(web, new_sku):
    sku, scarce = new_sku(10), new_sku(2)
    web.login("sally")
    r = web.get(f"/stock/availability?line-0-sku={sku.lower()}&line-0-qty=4&line-1-sku={scarce}&line-1-qty=5"
                "&line-2-sku=NOPE-9&line-2-qty=1&line-3-sku=&line-3-qty=", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
    html = r.get_data(as_text=True)
    assert re.findall(r'data-line="(\d)" data-status="(\w+)"', html) == [("1", "available"), ("2", "partial"), ("3", "backorder")]
    assert "2 now, 3 on backorder" in html and "not stocked in any warehouse" in html


def test_a_quantity_in_digits_that_are_not_plain_ascii_is_not_asked_yet(web):
    # "\u00b2".isdigit() is true but int("\u00b2") fails: the fragment answers, never with a 500.
    web.login("sally")
    r = web.get("/stock/availability", query_string={"line-0-sku": "WID-100", "line-0-qty": "\u00b2"},
                headers={"HX-Request": "true"})
    assert r.status_code == 200 and "data-status" not in r.get_data(as_text=True)


def test_the_order_form_asks_for_availability_as_one_types_and_shows_it_after_an_error(web, new_sku):
    web.login("sally")
    html = web.get("/orders/new").get_data(as_text=True)
    assert 'hx-get="/stock/availability"' in html and 'hx-trigger="keyup changed delay:300ms, change"' in html
    assert 'id="availability"' in html and "<script>" not in html
    sku = new_sku(1)
    r = web.post("/orders/new", {"customer": "C0002", "line-0-sku": sku, "line-0-qty": "3", "line-0-unit_price": "x"})
    assert r.status_code == 400
    assert 'data-status="partial"' in r.get_data(as_text=True)


def test_the_stock_pages_show_levels_the_waiting_queue_and_take_receipts_from_the_warehouse(web, fulfil, new_customer, new_sku):
    sku = new_sku(0)
    waiting = fulfil("sally").create({"customer": new_customer("gold"), "status": "submitted", "lines": [line(sku, 3)]})
    web.login("sally")
    page = web.get(f"/stock/{sku}").get_data(as_text=True)
    assert waiting["number"] in page and 'action="/stock/receive"' not in page
    web.login("wanda")
    assert 'action="/stock/receive"' in web.get("/stock").get_data(as_text=True)
    r = web.post("/stock/receive", {"sku": sku, "warehouse": "MAIN", "qty": "5"}, csrf_from="/stock")
    assert r.status_code == 303
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "Received 5 x" in page and "3 went to 1 waiting order line(s)" in page
    assert f"{waiting['number']}/1</a> 3" in page


def test_the_customer_pages_show_exposure_and_let_credit_change_the_profile(web, fulfil, new_customer, new_sku):
    ext = new_customer("silver", credit_limit_cents=100_000, open_balance_cents=10_000)
    fulfil("sally").create({"customer": ext, "status": "submitted", "lines": [line(new_sku(5), 2, "50.00")]})
    web.login("carl")
    page = web.get(f"/customers/{ext}").get_data(as_text=True)
    assert "100.00" in page and "800.00 left" in page  # 1000 - (100 balance + 100 open)
    r = web.post(f"/customers/{ext}", {"name": "Renamed", "tier": "gold", "credit_limit": "50.00",
                                       "open_balance": "100.00", "days_late": "0"}, csrf_from=f"/customers/{ext}")
    assert r.status_code == 303
    page = web.get(f"/customers/{ext}").get_data(as_text=True)
    assert "Renamed" in page and "exceeds the credit limit 50.00" in page
    web.login("sally")
    assert 'href="/customers/C0001"' in web.get("/customers").get_data(as_text=True)
    assert 'action="/customers/' not in web.get(f"/customers/{ext}").get_data(as_text=True)


def test_the_order_page_shows_what_each_line_holds_and_lets_shipping_ship(web, fulfil, new_customer, new_sku):
    sku = new_sku(2)
    order = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(sku, 5)]})
    fulfil("wanda").act(order["number"], "pick")
    web.login("sam")
    page = web.get(f"/orders/{order['number']}").get_data(as_text=True)
    assert "Ship from MAIN" in page and 'name="ship-1" value="2"' in page
    assert re.search(r"<td class=\"right\">5</td>\s*<td class=\"right\">2</td><td>MAIN 2</td><td class=\"right\">3</td>", page)
    current = fulfil("sam").get(order["number"])
    r = web.post(f"/orders/{order['number']}/ship", {"warehouse": "MAIN", "ship-1": "2", "carrier": "UPS",
                                                     "rev": current["_rev"]}, csrf_from=f"/orders/{order['number']}")
    assert r.status_code == 303
    page = web.get(f"/orders/{order['number']}").get_data(as_text=True)
    assert "Shipped 2 unit(s) from MAIN." in page and "Partially shipped" in page


def test_the_action_bar_offers_stock_steps_only_when_they_make_sense(web, fulfil, new_customer, new_sku):
    short = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(new_sku(1), 3)]})
    full = fulfil("sally").create({"customer": new_customer(), "status": "submitted", "lines": [line(new_sku(3), 3)]})
    web.login("mia")
    bar = lambda n: web.get(f"/orders/{n}").get_data(as_text=True).split('class="actionbar"')[1].split("</div>")[0]
    assert "Allocate backorders" in bar(short["number"]) and "Allocate backorders" not in bar(full["number"])
    for o in (short, full):
        fulfil("wanda").act(o["number"], "pick")
    # one way to ship: the Ship form with carrier and tracking, never a bare button in the bar
    for o in (short, full):
        page = web.get(f"/orders/{o['number']}").get_data(as_text=True)
        assert ">Ship part<" not in bar(o["number"]) and ">Ship<" not in bar(o["number"])
        assert 'class="card ship-form" data-confirm="Ship these units from MAIN now?' in page
        assert 'name="carrier"' in page and 'name="tracking"' in page
