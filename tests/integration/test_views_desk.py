"""The desk on real servers (PouchDB Server, slapd): categorized views with counts, Readers
fields in every view, search, export and count, paging by key, sorting, live polling, CSV,
dashboard. Orders are placed and moved by the demo people themselves (through the VDU)."""
import csv
import datetime as dt
import io
import re
from collections import Counter
from html import unescape

import pytest

from oms.identity.acl import Access
from views import catalog
from views.reader import read
from views.totals import TotalsCache, totals


@pytest.fixture(scope="module")
def desk_orders(seeded, service, admin_db):
    """Orders that exercise every view: restricted, overdue, partner, backorders, credit hold."""
    sally, carl, wanda = service("sally"), service("carl"), service("wanda")
    line = [{"sku": "GIZ-400", "qty": 4, "unit_price": "7.25"}]
    made = {}
    made["restricted"] = sally.create({"customer": "C0005", "lines": line, "readers": ["[Credit]"],
                                       "status": "submitted"})["number"]
    made["overdue"] = sally.create({"customer": "C0002", "lines": line, "status": "submitted",
                                    "promised_date": "2020-01-15"})["number"]
    made["future"] = sally.create({"customer": "C0002", "lines": line, "status": "submitted",
                                   "promised_date": "2099-01-15"})["number"]
    partner = sally.create({"customer": "C0003", "lines": line})
    sally.act(partner["number"], "edit", changes={"partner": "globalparts"})
    made["partner"] = partner["number"]
    bo = sally.create({"customer": "C0004", "lines": [{"sku": "WID-200", "qty": 10, "unit_price": "12.00"}],
                       "status": "submitted"})
    carl.act(bo["number"], "approve")
    wanda.act(bo["number"], "allocate", changes={
        "allocations": [{"line": 1, "sku": "WID-200", "warehouse": "BER", "qty": 6}],
        "backorders": [{"line": 1, "sku": "WID-200", "qty": 4}]})
    made["backorder"] = bo["number"]
    held = sally.create({"customer": "C0001", "lines": line, "status": "submitted"})
    carl.act(held["number"], "hold_credit", reason="over the limit")
    made["held"] = held["number"]
    admin_db.save({"_id": "customer:C0099", "type": "customer", "name": "=HYPERLINK(\"x\")", "tier": "bronze",
                   "currency": "EUR"})
    made["formula"] = sally.create({"customer": "C0099", "lines": line})["number"]
    return made


def readable_orders(admin_db, access: Access) -> list[dict]:
    res = admin_db.all_docs(start_key="order:", end_key="order:\ufff0", include_docs=True)
    # order:SO-…:vN are kept versions of amended orders, not orders
    return [r["doc"] for r in res["rows"] if r["doc"].get("type") == "order" and access.may_read(r["doc"])]


def html_of(resp) -> str:
    assert "Traceback" not in resp.get_data(as_text=True)
    return resp.get_data(as_text=True)


def numbers_in(html: str) -> list[str]:
    return re.findall(r'class="doc-link" href="/orders/(SO-\d+)"', html)


def nav_count(html: str, view: str) -> str:
    return re.search(rf'data-view="{view}">([^<]*)<', html).group(1)


# --- counts and Readers fields ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["mia", "carl", "rita", "sally"])
def test_by_status_counts_each_order_a_person_may_read_once_per_stage(desk_orders, person, admin_db, name):
    access, db = person(name)
    expected = Counter(catalog.stage_index(d["status"]) for d in readable_orders(admin_db, access))
    vd = catalog.get("by_status")
    t = totals(TotalsCache(), db, vd.count_source(access), vd.category_parts, wait=10)
    assert {k[0]: a["n"] for k, a in t.cats.items()} == dict(expected)
    assert t.total["n"] == sum(expected.values()) and t.exact and t.fresh


def test_an_order_naming_someone_by_name_and_by_role_is_listed_and_counted_once(desk_orders, person, admin_db):
    access, db = person("sally")  # authors: ["sally", "[Sales]"]: indexed under both principals
    rows = [r["value"]["number"] for r in read(db, catalog.get("all_orders").source(access), limit=100_000).rows]
    assert rows.count(desk_orders["restricted"]) == 1
    assert len(rows) == len(readable_orders(admin_db, access))


def test_a_restricted_order_stays_hidden_from_people_it_does_not_name_everywhere(web, desk_orders):
    number = desk_orders["restricted"]
    web.login("rita")
    for url in ["/views/all_orders", "/views/by_status?expand=1", "/views/by_customer?expand=1",
                "/views/by_priority?expand=1", "/views/all_orders?sort=customer", f"/search?q={number}",
                "/search?q=stark"]:
        assert number not in numbers_in(html_of(web.get(url))), url
    assert number not in web.get("/views/all_orders/export.csv").get_data(as_text=True)
    assert web.get(f"/search/export.csv?q={number}").get_data(as_text=True).count("\n") == 1  # header only
    web.login("carl")
    assert number in numbers_in(html_of(web.get(f"/search?q={number}")))


def test_the_navigator_shows_each_view_with_its_count_on_every_signed_in_page(web, desk_orders, admin_db, person):
    access, _ = person("rita")
    web.login("rita")
    total = len(readable_orders(admin_db, access))
    for url in ["/views/by_status", f"/orders/{desk_orders['overdue']}", "/dashboard", "/orders/new"]:
        html = html_of(web.get(url))
        assert 'id="navigator"' in html, url
        assert nav_count(html, "all_orders") == str(total), url
    assert 'data-view="my_queue"' not in html  # a Reader without roles has no queue


# --- categorized views, paging, sorting ---------------------------------------------------------

def test_a_collapsed_categorized_view_shows_categories_and_a_twisty_expands_one_in_place(web, desk_orders, admin_db, person):
    web.login("mia")
    html = html_of(web.get("/views/by_status?open=%5B%5D"))   # "Collapse all" (a few orders would open of themselves)
    assert 'class="twisty"' in html and 'aria-expanded="false"' in html
    assert numbers_in(html) == []  # collapsed: categories only
    held = catalog.stage_index("credit_hold")
    link = re.search(r'href="(/views/by_status\?open=%5B' + str(held) + r'%5D)"', html).group(1)
    pane = web.get(link, headers={"HX-Request": "true"})
    body = html_of(pane)
    assert "<html" not in body and "HX-Request" in pane.headers["Vary"]
    access, _ = person("mia")
    expected = sorted(d["number"] for d in readable_orders(admin_db, access) if d["status"] == "credit_hold")
    assert numbers_in(body) == expected and desk_orders["held"] in expected
    assert 'aria-expanded="true"' in body
    assert re.search(r'Credit hold</a>\s*<span class="cat-count">' + str(len(expected)) + "<", body)


def pages(web, url: str, until, most: int = 100):
    """The HTML of a view's pages, following its next links, until `until(html)` holds."""
    html = html_of(web.get(url))
    for _ in range(most):
        yield html
        nxt = re.search(r'href="([^"]+)"[^>]*rel="next"', html) or re.search(r'rel="next"[^>]*href="([^"]+)"', html)
        if until(html) or not nxt:
            return
        html = html_of(web.get(nxt.group(1).replace("&amp;", "&")))


def test_expand_all_lists_every_row_under_its_category_header(web, desk_orders):
    web.login("mia")
    first = html_of(web.get("/views/by_customer?expand=1"))
    assert 'class="cat-row flat"' in first
    # the shared test database may hold many pages of one customer before the next
    walked = list(pages(web, "/views/by_customer?expand=1", until=lambda html: desk_orders["overdue"] in numbers_in(html)))
    assert desk_orders["overdue"] in numbers_in(walked[-1]), "walked every page without meeting the order"
    assert any("Globex Corporation" in html for html in walked)


def test_paging_by_key_visits_every_row_once_in_order_forward_and_back(desk_orders, person):
    access, db = person("mia")  # seven principals: "*", mia and her roles
    src = catalog.get("all_orders").source(access)
    pages, after = [], None
    while True:
        page = read(db, src, after=after, limit=5)
        pages.append(page)
        if page.next_after is None:
            break
        after = page.next_after
    forward = [r["value"]["number"] for p in pages for r in p.rows]
    assert forward == sorted(forward) and len(forward) == len(set(forward)) > 10
    back = read(db, src, before=pages[-1].rows[0]["key"][1:], limit=5)
    assert [r["value"]["number"] for r in back.rows] == [r["value"]["number"] for r in pages[-2].rows]


def test_my_queue_pages_across_roles_without_losing_a_row(desk_orders, person):
    access, db = person("mia")
    src = catalog.get("my_queue").source(access)
    whole = [r["id"] for r in read(db, src, limit=1000).rows]
    paged, after = [], None
    while True:
        page = read(db, src, after=after, limit=3)
        paged += [r["id"] for r in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    assert paged == whole and len(whole) > 3


def test_a_column_title_sorts_the_view_where_a_design_view_backs_it(web, desk_orders):
    web.login("mia")
    html = html_of(web.get("/views/all_orders"))
    assert 'href="/views/all_orders?sort=customer"' in html
    assert 'aria-sort="ascending"' in html
    keys = []   # page after page (the shared test database may hold pages of one customer)
    for asc in pages(web, "/views/all_orders?sort=customer", until=lambda _: len(set(keys)) > 2):
        names = re.findall(r'<td class="">([^<]+)</td>\s*<td class="">', asc)
        keys += [re.sub(r"[^a-z0-9]", "", n.lower()) for n in names]
    assert keys == sorted(keys) and len(set(keys)) > 2
    desc = html_of(web.get("/views/all_orders?sort=customer&desc=1"))
    dnames = re.findall(r'<td class="">([^<]+)</td>\s*<td class="">', desc)
    dkeys = [re.sub(r"[^a-z0-9]", "", n.lower()) for n in dnames]
    assert dkeys == sorted(dkeys, reverse=True) and dkeys[0] >= keys[-1] and dkeys[-1] <= dkeys[0]
    assert 'aria-sort="descending"' in desc


def test_a_sort_no_design_view_backs_is_refused_with_the_ones_that_exist(web):
    web.login("mia")
    resp = web.get("/views/all_orders?sort=net_cents")
    assert resp.status_code == 400
    assert "cannot be sorted by 'net_cents'; it can by: number, customer, status" in unescape(html_of(resp))


def test_more_rows_of_an_open_category_continue_after_the_last_one_shown(web, desk_orders, person):
    access, db = person("mia")
    vd = catalog.get("by_customer")
    cat = ("globexcorporation", "customer:C0002")
    rows = read(db, vd.source(access, category=cat), limit=100).rows
    assert len(rows) >= 3
    web.login("mia")
    import json
    resp = web.get("/views/by_customer/more", query_string={"cat": json.dumps(list(cat)),
                                                            "after": json.dumps(rows[0]["key"][1:])})
    assert numbers_in(html_of(resp)) == [r["value"]["number"] for r in rows[1:]]


# --- live ---------------------------------------------------------------------------------------

def test_a_live_poll_answers_204_until_any_order_changes_then_redraws(web, desk_orders, service, admin_db):
    web.login("mia")
    html = html_of(web.get("/views/overdue"))
    since = re.search(r'hx-vals=\'\{"since": "([^"]*)"\}\'', html)
    assert since, "the pane carries its since-token"
    token = since.group(1)
    hx = {"HX-Request": "true"}
    for _ in range(20):  # counts may still settle once after the first render
        r = web.get("/views/overdue", query_string={"since": token}, headers=hx)
        if r.status_code == 204:
            break
        token = re.search(r'"since": "([^"]*)"', html_of(r)).group(1)
    assert r.status_code == 204 and r.get_data() == b""
    service("sally").act(desk_orders["overdue"], "edit", changes={"notes": "customer called"})
    import time
    time.sleep(0.3)
    r = web.get("/views/overdue", query_string={"since": token}, headers=hx)
    assert r.status_code == 200 and desk_orders["overdue"] in numbers_in(html_of(r))
    assert 'id="navigator" class="navigator" aria-label="Views" hx-swap-oob="true"' in html_of(r)


# --- CSV ----------------------------------------------------------------------------------------

def test_csv_export_streams_the_view_with_its_category_filter(web, desk_orders, admin_db, person):
    web.login("mia")
    held = catalog.stage_index("credit_hold")
    resp = web.get(f"/views/by_status/export.csv?cat=[{held}]")
    assert resp.status_code == 200 and resp.is_streamed
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert table[0] == ["Number", "Customer", "Priority", "Value", "Promised", "Updated", "Currency"]
    access, _ = person("mia")
    expected = sorted(d["number"] for d in readable_orders(admin_db, access) if d["status"] == "credit_hold")
    assert [r[0] for r in table[1:]] == expected
    held = next(r for r in table[1:] if r[0] == desk_orders["held"])
    assert held[3] == "29.00" and held[6] == "EUR"


def test_csv_export_keeps_the_sort_of_the_pane(web, desk_orders):
    web.login("rita")
    rows = list(csv.reader(io.StringIO(web.get("/views/all_orders/export.csv?sort=customer&desc=1").get_data(as_text=True))))
    keys = [re.sub(r"[^a-z0-9]", "", r[1].lower()) for r in rows[1:]]
    assert keys == sorted(keys, reverse=True) and len(rows) > 10


def test_a_csv_cell_that_starts_like_a_formula_is_written_as_text(web, desk_orders):
    web.login("mia")
    text = web.get("/views/all_orders/export.csv").get_data(as_text=True)
    row = next(r for r in csv.reader(io.StringIO(text)) if r and r[0] == desk_orders["formula"])
    assert row[1] == "'=HYPERLINK(\"x\")"


# --- search -------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["{overdue}", "{digits}", "globex", "Globex Corp", "C0002", "giz-4"])
def test_search_finds_orders_by_number_customer_or_sku_as_one_types(web, desk_orders, query):
    number = desk_orders["overdue"]
    q = query.format(overdue=number, digits=str(int(number[3:])))
    web.login("mia")
    resp = web.get("/search", query_string={"q": q}, headers={"HX-Request": "true"})
    found = numbers_in(html_of(resp))
    assert number in found and len(found) == len(set(found))


def test_an_empty_search_explains_what_can_be_searched(web):
    web.login("rita")
    assert "Type an order number" in html_of(web.get("/search?q="))
    assert web.get("/search/export.csv?q=%20").status_code == 400


# --- the other views ----------------------------------------------------------------------------

def test_overdue_lists_orders_promised_before_today_that_are_not_shipped(web, desk_orders):
    web.login("rita")
    found = numbers_in(html_of(web.get("/views/overdue")))
    assert desk_orders["overdue"] in found and desk_orders["future"] not in found


def test_my_queue_shows_each_role_the_orders_waiting_for_it(web, desk_orders, person, admin_db):
    web.login("carl")
    html = html_of(web.get("/views/my_queue?expand=1"))
    owner = {s: v.get("owner_role") for s, v in __import__("oms.core.rules", fromlist=["x"]).workflow()["states"].items()}
    access, _ = person("carl")
    expected = sorted((d["priority"], d["created_at"], d["number"])
                      for d in readable_orders(admin_db, access) if owner.get(d["status"]) == "[Credit]")
    assert numbers_in(html) == [n for _, _, n in expected]
    assert desk_orders["restricted"] in numbers_in(html)
    web.login("rita")
    resp = web.get("/views/my_queue")
    assert resp.status_code == 403 and "you have none" in html_of(resp)


def test_views_fed_by_other_modules_show_their_fields(web, desk_orders):
    web.login("wanda")
    bo = html_of(web.get("/views/backorders?expand=1"))
    assert desk_orders["backorder"] in numbers_in(bo) and "WID-200" in bo and "4 units" in bo
    # collapsed, every category shows (expanded, a busy MAIN can fill the first page)
    backlog = html_of(web.get("/views/backlog"))
    assert "BER" in backlog and "Not allocated" in backlog
    partner = html_of(web.get("/views/by_partner"))
    assert "globalparts" in partner
    assert desk_orders["held"] in numbers_in(html_of(web.get("/views/credit_hold")))


def test_the_dashboard_draws_four_charts_from_the_same_counts(web, desk_orders, admin_db, person):
    web.login("rita")
    html = html_of(web.get("/dashboard"))
    assert html.count('<svg class="chart"') == 4
    access, _ = person("rita")
    submitted = sum(1 for d in readable_orders(admin_db, access) if d["status"] == "submitted")
    assert re.search(rf"<th>Submitted</th><td class=\"right\">{submitted}</td>", html)
    assert 'href="/views/by_status?open=' in html  # a bar opens its category
    assert "<script" not in html.split("</head>")[1] and " style=" not in html


# --- errors and htmx ----------------------------------------------------------------------------

def test_bad_input_gets_a_readable_page_never_a_trace(web):
    web.login("rita")
    r = web.get("/views/nope")
    assert r.status_code == 404 and "There is no view called" in html_of(r)
    r = web.get("/views/by_status/more?cat=[1,2]&after=[1]")
    assert r.status_code == 400 and "JSON list of 1 value" in html_of(r)
    assert web.get("/views/all_orders?after=%7Bbad&before=[{}]").status_code == 200
    assert web.get("/views/by_status?open=notjson&cats=[[[").status_code == 200


def test_htmx_history_restore_gets_the_whole_page(web):
    web.login("rita")
    r = web.get("/views/by_status", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in html_of(r)


def test_a_categorys_sum_stands_under_the_value_column_and_the_category_keeps_its_heading(web, seeded):
    web.login("mia")
    html = web.get("/views/by_customer").get_data(as_text=True)
    row = re.search(r'<tr class="cat-row">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<(th|td)([^>]*)>", row)
    # Number, Status, Priority come first (colspan 3), then the Value column's cell holds the sum
    assert cells[0] == ("th", ' colspan="3" scope="rowgroup"') and 'class="cat-sum num"' in cells[1][1]
    assert '<span class="cat-title">Customer</span>' in row
    assert re.search(r'<td class="cat-sum num">[A-Z]{3} [\d,]+\.\d\d</td>', row)
