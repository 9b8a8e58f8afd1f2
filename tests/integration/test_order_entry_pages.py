"""The New order page through the real app (Flask test client, real PouchDB Server and slapd):
the fragments htmx asks for as a clerk types (customer and product matches, a picked customer
or product, lines added and removed, the running totals with tax), and what a refused POST
shows: every message beside its field, the typed values kept, never JSON. Demo data: Acme Ltd
(C0001) is a gold customer in Hamburg (DE, 19%); the GOLD list sells WID-100 at 4.20, 3.95 from 20."""
from __future__ import annotations

import html as htmllib
import re
import uuid

import pytest

from oms.crm.customers import CustomerService
from tests.fulfilment_fixtures import agent, fulfil, new_customer  # noqa: F401

HX = {"HX-Request": "true"}


def hx(target: str, **more) -> dict:
    return {**HX, "HX-Target": target, **more}


def fragment(web, target: str, data: dict, **headers):
    """POST the entry form to /orders/new as htmx would for `target`."""
    data = {"csrf_token": web.csrf("/orders/new"), **data}
    r = web.c.post("/orders/new", data=data, headers=hx(target, **headers))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_data(as_text=True)


def text(html: str) -> str:
    """What a person reads: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def beside(html: str, key: str) -> str:
    m = re.search(rf'<p class="field-message" id="msg-{re.escape(key)}"[^>]*>(.*?)</p>', html, re.S)
    return htmllib.unescape(m.group(1)) if m else ""


def value_of(html: str, name: str) -> str:
    m = re.search(rf'<input[^>]*\sname="{re.escape(name)}"[^>]*\svalue="([^"]*)"', html)
    return htmllib.unescape(m.group(1)) if m else None


def order_of(fulfil, response) -> dict:
    assert response.status_code == 303, response.get_data(as_text=True)
    return fulfil("sally").get(response.headers["Location"].rsplit("/", 1)[1])


@pytest.fixture
def sally(web):
    web.login("sally")
    return web


def test_the_page_starts_with_five_rows_both_buttons_and_the_limits(sally):
    r = sally.get("/orders/new")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert re.findall(r'name="line-(\d+)-sku"', html) == ["0", "1", "2", "3", "4"]
    buttons = re.findall(r'<button type="submit" name="action" value="(\w+)"[^>]*>([^<]+)</button>', html)
    assert buttons == [("submit", "Place order"), ("draft", "Save as draft")]   # the first is the default
    assert html.split('id="entry-form"', 1)[1].count('type="submit"') == 2   # add, remove, pick: type="button"
    assert 'maxlength="4000"' in html and "0</span> of 4,000 characters" in html
    assert "an order may hold up to 500 lines" in html
    assert 'hx-trigger="input changed delay:250ms, search"' in html and 'name="customer" value=""' in html
    assert 'hx-trigger="change target:.entry-live' in html
    for internal in ("price_source", "list_price_cents", "unit_price_cents", "lines[", "tax_rate_bp"):
        assert internal not in html


def test_customer_search_shows_each_match_with_its_credit_state_in_words(sally, new_customer):
    word = "zq" + uuid.uuid4().hex[:8]
    ok = new_customer("gold", name=f"{word} Alpha", credit_limit_cents=10_000_000, open_balance_cents=0)
    near = new_customer("gold", name=f"{word} Bravo", credit_limit_cents=1_000_000, open_balance_cents=880_000)
    over = new_customer("gold", name=f"{word} Charlie", credit_limit_cents=100_000, open_balance_cents=120_000)
    held = new_customer("gold", name=f"{word} Delta", credit_limit_cents=10_000_000, credit_hold=True)
    r = sally.get("/orders/new", query_string={"customer_q": word}, headers=hx("entry-customer-matches"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html
    assert re.findall(r'data-customer="([^"]+)"', html) == [ok, near, over, held]
    states = [text(m) for m in re.findall(r'<span class="credit-badge[^>]*>(.*?)</span>', html, re.S)]
    assert states == ["Credit OK", "Near the limit: 1,200.00 EUR free", "Over the limit", "On credit hold"]
    assert re.findall(r'data-credit="(\w+)"', html) == ["ok", "near", "over", "hold"]
    assert f"{word} Bravo {near}" in text(html)

    none = sally.get("/orders/new", query_string={"customer_q": "zzqqnobody"}, headers=hx("entry-customer-matches"))
    assert "No customer’s name or id starts with “zzqqnobody”" in text(none.get_data(as_text=True))


def test_acme_is_found_by_a_word_of_its_name(sally):
    html = sally.get("/orders/new", query_string={"customer_q": "acm"}, headers=hx("entry-customer-matches")).get_data(as_text=True)
    assert 'data-customer="C0001"' in html and "Acme Ltd" in html
    assert """hx-vals='{"pick_customer": "C0001"}'""" in htmllib.unescape(html)


def test_product_search_finds_by_sku_or_description_and_leaves_withdrawn_ones_out(sally):
    html = sally.get("/orders/new", query_string={"line-2-sku": "wid"}, headers=hx("line-2-matches")).get_data(as_text=True)
    found = re.findall(r'data-sku="([^"]+)"', html)
    # other tests add products of their own that say "widget": the demo's two are among the matches
    assert {"WID-100", "WID-200"} <= set(found) and "TOOL-KIT" not in found, found
    assert "Widget, small" in html and '"pick_line": "2"' in htmllib.unescape(html)
    html = sally.get("/orders/new", query_string={"line-0-sku": "sprock"}, headers=hx("line-0-matches")).get_data(as_text=True)
    assert re.findall(r'data-sku="([^"]+)"', html) == ["SPR-010"]
    html = sally.get("/orders/new", query_string={"line-0-sku": "tool"}, headers=hx("line-0-matches")).get_data(as_text=True)
    assert "TOOL-KIT" not in html and "No product we sell starts with “tool”" in text(html)


def test_choosing_a_customer_shows_their_ship_tos_and_currency(sally):
    html = fragment(sally, "entry-customer", {"customer": "", "customer_q": "acm", "pick_customer": "C0001"})
    assert value_of(html, "customer") == "C0001" and value_of(html, "customer_q") == "Acme Ltd"
    assert re.findall(r'<option value="(\w+)"', html) == ["MAIN", "EAST"]
    assert "Acme Ltd, East depot" in html and "Leipzig" in html
    assert '<output id="entry-currency" aria-labelledby="entry-currency-label">EUR</output>' in html
    assert 'data-credit="' in html
    # the totals panel comes along (out of band), asking for a product now
    assert 'id="entry-totals" hx-swap-oob="innerHTML"' in html
    assert "Choose a product and a quantity to see prices, tax and totals." in html


def test_choosing_a_product_fills_the_line_and_prices_it_with_tax(sally):
    html = fragment(sally, "entry-lines", {"customer": "C0001", "ship_to": "MAIN", "line-0-sku": "wid", "line-0-qty": "",
                                           "line-1-sku": "", "line-1-qty": "", "pick_line": "0", "pick_sku": "WID-100"})
    assert value_of(html, "line-0-sku") == "WID-100" and value_of(html, "line-0-description") == "Widget, small"
    assert value_of(html, "line-0-qty") == "1" and re.search(r'id="line-0-qty"[^>]*autofocus', html)
    assert re.findall(r'name="line-(\d+)-sku"', html) == ["0", "1"]
    totals = text(html.split('id="entry-totals"', 1)[1])
    assert "1 WID-100 · Widget, small 1 4.20 Price list: Gold customers 4.20 19% 0.80" in totals
    assert "Net 4.20 EUR Shipping 0.00 EUR Tax 0.80 EUR Gross 5.00 EUR" in totals


def test_the_totals_follow_quantity_breaks_shipping_and_a_typed_price(sally):
    form = {"customer": "C0001", "ship_to": "MAIN", "line-0-sku": "WID-100", "line-0-qty": "20", "line-0-unit_price": "",
            "line-1-sku": "GAD-310", "line-1-qty": "1", "line-1-unit_price": "40.00", "shipping": "9.50"}
    html = fragment(sally, "entry-totals", form)
    assert "<html" not in html and 'id="availability" hx-swap-oob="innerHTML"' in html
    t = text(html.split('<div id="availability"', 1)[0])
    assert "1 WID-100 · Widget, small 20 3.95 Price list: Gold customers 79.00 19% 15.01" in t
    assert "2 GAD-310 · Gadget 1 40.00 Your price (Price list: Gold customers: 36.90) 40.00 19% 7.60" in t
    # 19% per line and of the shipping, each rounded half up: 15.01 + 7.60 + 1.81
    assert "Net 119.00 EUR Shipping 9.50 EUR Tax 24.42 EUR Gross 152.92 EUR" in t
    assert "Needs price approval" not in t


def test_a_price_beyond_the_persons_discount_limit_says_it_needs_approval(sally):
    html = fragment(sally, "entry-totals", {"customer": "C0001", "line-0-sku": "WID-100", "line-0-qty": "2",
                                            "line-0-unit_price": "2.10"})
    t = text(html)
    assert "Needs price approval: line 1 (WID-100) is 50% below the offered price; you may give up to 15%." in t


def test_the_totals_show_only_messages_on_bad_input_and_renumber_to_the_rows(sally):
    html = fragment(sally, "entry-totals", {"customer": "C0001", "line-0-sku": "WID-100", "line-0-qty": "2",
                                            "line-1-sku": "", "line-1-qty": "",
                                            "line-2-sku": "WID-200", "line-2-qty": "x"})
    t = text(html.split('<div id="availability"', 1)[0])
    assert t.startswith("Not priced yet:")
    assert "Line 3: quantity must be a whole number from 1, e.g. 3, not 'x'" in t
    assert "Gross" not in t
    assert fragment(sally, "entry-totals", {"customer": "", "line-0-sku": "WID-100"}).count("Choose a customer to see prices") == 1


def test_a_fragment_never_places_an_order_whatever_the_form_says(sally, new_customer, agent):
    fresh = new_customer("gold", credit_limit_cents=10_000_000)
    for target in ("entry-totals", "entry-lines", "entry-customer", "somewhere-else"):
        r = sally.c.post("/orders/new", headers=hx(target),
                         data={"csrf_token": sally.csrf("/orders/new"), "customer": fresh, "action": "submit",
                               "line-0-sku": "WID-100", "line-0-qty": "1"})
        assert r.status_code == 200 and "Location" not in r.headers
    assert CustomerService(agent.db, agent.access).open_orders(fresh) == {}


def test_adding_and_removing_lines_keeps_what_was_typed(sally):
    rows = {f"line-{i}-{f}": "" for i in range(5) for f in ("sku", "description", "qty", "unit_price")}
    rows.update({"customer": "C0001", "line-0-sku": "WID-100", "line-0-qty": "3", "line-1-sku": "GAD-310", "line-1-qty": "1",
                 "line-2-sku": "WID-200", "line-2-qty": "7"})
    html = fragment(sally, "entry-lines", {**rows, "add_line": "1"})
    assert re.findall(r'name="line-(\d+)-sku"', html) == ["0", "1", "2", "3", "4", "5"]
    assert re.search(r'id="line-5-sku"[^>]*autofocus', html) and "6 rows here" in html

    html = fragment(sally, "entry-lines", {**rows, "remove_line": "1"})
    assert re.findall(r'name="line-(\d+)-sku"', html) == ["0", "1", "2", "3"]
    assert value_of(html, "line-0-sku") == "WID-100" and value_of(html, "line-1-sku") == "WID-200"
    assert value_of(html, "line-1-qty") == "7" and "GAD-310" not in html.split('id="entry-totals"')[0]
    totals = text(html.split('id="entry-totals"', 1)[1])
    assert "2 WID-200 · Widget, large 7 11.20" in totals and "GAD-310" not in totals


def test_a_refused_order_shows_every_message_beside_its_field_and_keeps_the_values(sally):
    r = sally.post("/orders/new", {"customer": "C0001", "customer_q": "Acme Ltd", "ship_to": "EAST", "action": "submit",
                                   "line-0-sku": "WID-100", "line-0-qty": "2",
                                   "line-1-sku": "WID-200", "line-1-qty": "x",
                                   "line-2-sku": "NOPE-1", "line-2-qty": "1", "customer_po": "PO-77", "notes": "call first"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert beside(html, "line-1-qty") == "Line 2: quantity must be a whole number from 1, e.g. 3, not 'x'"
    assert beside(html, "line-2-sku") == "Line 3: NOPE-1 is not a product we sell"
    assert "The order was not placed: 2 things need your attention, each shown beside its field." in text(html)
    assert re.search(r'id="line-1-qty"[^>]*aria-invalid="true" aria-describedby="msg-line-1-qty"', html)
    assert value_of(html, "line-1-qty") == "x" and value_of(html, "line-2-sku") == "NOPE-1"
    assert value_of(html, "customer_po") == "PO-77" and ">call first</textarea>" in html
    assert '<option value="EAST" selected>' in html and value_of(html, "customer") == "C0001"
    shown = text(html.split("<main", 1)[1])
    assert "lines[" not in shown and "{" not in shown and "price_source" not in shown


def test_without_a_customer_the_customer_and_the_lines_are_both_told(sally):
    r = sally.post("/orders/new", {"customer": "", "customer_q": "acm", "line-0-sku": "", "line-0-qty": "",
                                   "line-1-sku": "WID-100", "line-1-qty": "0"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert beside(html, "customer").startswith("Choose the customer")
    # the blank first row is gone: the line is row 1 again, as its message says
    assert beside(html, "line-0-qty") == "Line 1: quantity must be a whole number from 1 to 1,000,000, not 0"
    assert value_of(html, "line-0-sku") == "WID-100"
    assert 'data-customer="C0001"' in html   # what was typed in the search is offered to pick


def test_an_unknown_customer_and_a_foreign_currency_are_told_beside_the_customer(sally):
    r = sally.post("/orders/new", {"customer": "C9999", "line-0-sku": "WID-100", "line-0-qty": "1"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and beside(html, "customer") == "unknown customer 'C9999'"
    r = sally.post("/orders/new", {"customer": "C0001", "currency": "GBP", "line-0-sku": "WID-100", "line-0-qty": "1"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert beside(html, "currency") == "Acme Ltd buys in EUR: an order of theirs cannot be in GBP"
    assert "The order was not placed: 1 thing needs your attention" in text(html)


def test_decimal_commas_in_a_german_locale_and_not_in_an_english_one(sally, fulfil):
    de = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    form = {"customer": "C0001", "line-0-sku": "WID-100", "line-0-qty": "3", "line-0-unit_price": "4,10",
            "shipping": "1.234,50", "action": "draft"}
    html = fragment(sally, "entry-totals", form, **de)
    assert "Your price (Price list: Gold customers: 4.20) 12.30" in text(html)
    r = sally.c.post("/orders/new", data={**form, "csrf_token": sally.csrf("/orders/new")}, headers=de)
    doc = order_of(fulfil, r)
    assert doc["lines"][0]["unit_price_cents"] == 410 and doc["totals"]["shipping_cents"] == 123450
    assert doc["status"] == "draft"

    r = sally.c.post("/orders/new", data={**form, "shipping": "", "csrf_token": sally.csrf("/orders/new")},
                     headers={"Accept-Language": "en-GB,en;q=0.8"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert beside(html, "line-0-unit_price") == "Line 1: unit price must be an amount like \"12.50\", not '4,10'"
    assert value_of(html, "line-0-unit_price") == "4,10"


def test_place_order_submits_and_save_as_draft_does_not(sally, fulfil):
    base = {"customer": "C0001", "ship_to": "EAST", "line-0-sku": "WID-100", "line-0-qty": "2", "customer_po": "PO-1",
            "requested_date": "2027-01-15", "promised_date": "2027-01-20", "notes": "ring the bell"}
    placed = order_of(fulfil, sally.post("/orders/new", {**base, "action": "submit"}))
    assert placed["status"] not in ("draft", "price_approval")
    assert placed["history"][0]["action"] == "create" and placed["ship_to"]["id"] == "EAST"
    assert placed["customer_po"] == "PO-1" and placed["requested_date"] == "2027-01-15" and placed["notes"] == "ring the bell"
    assert placed["lines"][0]["unit_price_cents"] == 420 and placed["totals"]["gross_cents"] == 1000   # 8.40 + 19%
    draft = order_of(fulfil, sally.post("/orders/new", {**base, "action": "draft"}))
    assert draft["status"] == "draft"


def test_a_reader_is_told_up_front_that_they_may_not_place_or_amend_orders(web, service):
    web.login("rita")
    page = web.get("/orders/new").get_data(as_text=True)
    assert "As Reader you may read orders but not place them" in page
    assert re.search(r'<button type="submit" name="action" value="submit" class="primary" disabled>', page)
    order = service("sally").create({"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1}]})
    page = web.get(f"/orders/{order['number']}/amend").get_data(as_text=True)
    assert "You may not amend" in page and re.search(r'<button type="submit" class="primary" disabled>', page)
    # reloading the answer of a step shows the order again instead of "Method not allowed"
    r = web.get(f"/orders/{order['number']}/act")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/orders/{order['number']}")


def test_the_same_form_sent_twice_places_one_order(sally, fulfil, admin_db):
    """Back after saving, or a double click: the form's one-time key places the order once; the
    same key with other lines says the form was used and names the order it placed."""
    page = sally.get("/orders/new").get_data(as_text=True)
    once = value_of(page, "once")
    assert once and len(once) == 32
    po = f"PO-{uuid.uuid4().hex[:8]}"
    form = {"once": once, "customer": "C0001", "action": "submit", "line-0-sku": "WID-100", "line-0-qty": "1",
            "customer_po": po}
    first = order_of(fulfil, sally.post("/orders/new", form))
    again = sally.post("/orders/new", form)
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/orders/{first['number']}")
    placed = admin_db.find({"type": "order", "customer_po": po}, limit=5)["docs"]
    assert [d["number"] for d in placed] == [first["number"]]       # one order, not two
    changed = sally.post("/orders/new", {**form, "line-0-qty": "3"})
    assert changed.status_code == 409
    assert f"This form already placed {first['number']}" in text(changed.get_data(as_text=True))
    assert value_of(changed.get_data(as_text=True), "once") != once   # a fresh key for a fresh order


def test_an_order_typed_while_the_session_ended_is_kept_through_a_new_sign_in(app, fulfil):
    """The session ends (a new browser session: no cookie) while the clerk types; Place order
    leads to the sign-in with what was typed kept, and after it the page is as it was."""
    from tests.conftest import WebClient
    typing = WebClient(app)
    typing.login("sally")
    page = typing.get("/orders/new").get_data(as_text=True)
    token, once = value_of(page, "csrf_token"), value_of(page, "once")
    po = f"PO-{uuid.uuid4().hex[:8]}"
    form = {"csrf_token": token, "once": once, "customer": "C0001", "customer_po": po, "action": "submit",
            "line-0-sku": "WID-100", "line-0-qty": "3", "notes": "gate 2 — ask for Åsa"}
    expired = WebClient(app)                       # the same form, sent after the session is gone
    r = expired.c.post("/orders/new", data=form)
    assert r.status_code == 401
    login_page = r.get_data(as_text=True)
    assert "what you typed is kept" in login_page and value_of(login_page, "keep:customer_po") == po
    kept = dict(re.findall(r'name="(keep:[^"]+)" value="([^"]*)"', login_page))
    back = expired.c.post("/login?next=/orders/new", data={**{k: htmllib.unescape(v) for k, v in kept.items()},
                                                             "username": "sally", "password": "demo",
                                                             "csrf_token": value_of(login_page, "csrf_token")})
    assert back.status_code == 200
    html = back.get_data(as_text=True)
    assert "your order is as you typed it" in html
    assert value_of(html, "line-0-sku") == "WID-100" and value_of(html, "line-0-qty") == "3"
    assert value_of(html, "customer_po") == po and "gate 2 — ask for Åsa" in htmllib.unescape(html)
    placed = expired.c.post("/orders/new", data={**form, "csrf_token": value_of(html, "csrf_token"),
                                                 "once": value_of(html, "once")})
    assert order_of(fulfil, placed)["customer_po"] == po
