"""The CRM and WMS feeds on the real server: a profile upserted by its external id (the same
input twice writes once), a CSV or JSON feed whose good rows go in and whose bad rows are
reported with their row and reason, re-run without duplicates; the WMS feed's counts and
receipts; and who may send them."""
from __future__ import annotations

import base64
import json

from oms.core.errors import InvalidInput
from oms.interchange.feeds import import_stock, parse
from tests.fulfilment_fixtures import agent, new_sku, unique  # noqa: F401


def basic(name):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}


def test_upserting_a_profile_twice_writes_once(app):
    c, ext = app.test_client(), unique("CRM")
    body = {"name": "Duplo Trading", "tier": "silver", "credit_limit": "2500.00", "open_balance": "-10.50",
            "days_late": 3, "contacts": [{"name": "Ann Buyer", "email": "ann@duplo.example"}]}
    first = c.put(f"/api/v1/customers/{ext}", headers=basic("carl"), json=body)
    assert first.status_code == 201 and first.get_json()["result"] == "created"
    doc = first.get_json()["customer"]
    assert (doc["credit_limit_cents"], doc["open_balance_cents"], doc["updated_by"]) == (250000, -1050, "carl")
    again = c.put(f"/api/v1/customers/{ext}", headers=basic("carl"), json=body)
    assert again.status_code == 200 and again.get_json()["result"] == "unchanged"
    assert again.get_json()["customer"]["_rev"] == doc["_rev"]
    changed = c.put(f"/api/v1/customers/{ext}", headers=basic("carl"), json={"tier": "gold"})
    assert changed.get_json()["result"] == "updated"
    got = c.get(f"/api/v1/customers/{ext}", headers=basic("rita")).get_json()
    assert (got["tier"], got["name"], got["credit_limit_cents"]) == ("gold", "Duplo Trading", 250000)  # kept
    assert got["open_orders_cents"] == 0


def test_bad_profiles_are_400_with_the_reason_and_sales_may_not_write_them(app):
    c = app.test_client()
    r = c.put(f"/api/v1/customers/{unique('CRM')}", headers=basic("carl"), json={"name": "X", "tier": "platinum"})
    assert r.status_code == 400 and "tier must be one of gold, silver, bronze" in r.get_json()["detail"]
    r = c.put(f"/api/v1/customers/{unique('CRM')}", headers=basic("carl"), json={"name": "X", "credit_limit": "-5"})
    assert r.status_code == 400 and "credit_limit must be an amount of 0 or more" in r.get_json()["detail"]
    r = c.put(f"/api/v1/customers/{unique('CRM')}", headers=basic("carl"), json={"tier": "gold"})
    assert r.status_code == 400 and "a new customer needs a name" in r.get_json()["detail"]
    r = c.put(f"/api/v1/customers/{unique('CRM')}", headers=basic("sally"), json={"name": "X"})
    assert r.status_code == 403 and "[Credit]" in r.get_json()["detail"]


def test_a_csv_crm_feed_takes_the_good_rows_reports_the_bad_and_reruns_without_duplicates(app):
    a, b, bad = unique("CSV"), unique("CSV"), unique("CSV")
    feed = ("id,name,tier,credit_limit,open_balance,days_late,credit_hold,contact_email\n"
            f"{a},Alpha GmbH,gold,10000.00,1200.00,5,no,buyer@alpha.example\n"
            f"{bad},Broken Ltd,diamond,1.00,0,0,no,\n"
            f"{b},Beta SA,bronze,500.00,0,95,yes,\n"
            ",Nameless,gold,1,0,0,no,\n")
    c = app.test_client()
    r = c.post("/api/v1/customers/import", headers={**basic("carl"), "Content-Type": "text/csv"}, data=feed)
    report = r.get_json()
    assert r.status_code == 200 and (report["created"], report["updated"], report["unchanged"]) == (2, 0, 0)
    assert [(e["row"], e["reason"][:20]) for e in report["errors"]] == [(2, "tier must be one of "), (4, 'each customer needs ')]
    again = c.post("/api/v1/customers/import", headers={**basic("carl"), "Content-Type": "text/csv"}, data=feed).get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    beta = c.get(f"/api/v1/customers/{b}", headers=basic("carl")).get_json()
    assert beta["credit_hold"] is True and beta["days_late"] == 95
    alpha = c.get(f"/api/v1/customers/{a}", headers=basic("carl")).get_json()
    assert alpha["contacts"] == [{"email": "buyer@alpha.example"}]


def test_a_json_wms_feed_counts_and_receives_stock(app, agent):
    sku = unique("FEED")
    rows = [{"sku": sku, "warehouse": "MAIN", "on_hand": 40, "description": "Feed test"},
            {"sku": sku, "warehouse": "EAST", "received": 5},
            {"sku": sku, "warehouse": "MAIN", "on_hand": "lots"},
            {"sku": "bad sku", "warehouse": "MAIN", "on_hand": 1},
            {"sku": sku, "warehouse": "MAIN", "on_hand": 3, "received": 2}]
    c = app.test_client()
    r = c.post("/api/v1/stock/import", headers=basic("wanda"), json={"stock": rows})
    report = r.get_json()
    assert (report["counted"], report["received"], report["unchanged"]) == (1, 1, 0)
    assert [e["row"] for e in report["errors"]] == [3, 4, 5]
    got = c.get(f"/api/v1/stock/{sku}", headers=basic("sally")).get_json()
    assert (got["on_hand"], got["reserved"], got["available"]) == (45, 0, 45)
    again = c.post("/api/v1/stock/import", headers=basic("wanda"), json=rows[:1]).get_json()
    assert again["unchanged"] == 1


def test_feeds_parse_csv_and_json_alike():
    assert parse("sku,on_hand\nA,1\n", "text/csv") == [{"sku": "A", "on_hand": "1"}]
    assert parse(json.dumps({"stock": [{"sku": "A"}]}), "application/json", key="stock") == [{"sku": "A"}]
    assert parse(b"\xef\xbb\xbf[{\"id\": \"C1\"}]") == [{"id": "C1"}]


def test_a_feed_that_is_not_utf8_is_refused_with_400_and_the_reason(app):
    # Bytes that are not UTF-8 are the client's mistake: a 400 that says so, never a 500.
    c = app.test_client()
    for path, kind in (("/api/v1/customers/import", "application/json"), ("/api/v1/stock/import", "text/csv")):
        r = c.post(path, data=b"\xf7{\x17", headers={**basic("mia"), "Content-Type": kind})
        assert r.status_code == 400 and r.mimetype == "application/problem+json", r.get_data(as_text=True)
        assert "not UTF-8" in r.get_json()["detail"]


def test_a_csv_feed_with_odd_line_ends_or_a_huge_field_is_read_or_refused_never_a_500(app):
    # A lone carriage return ends a line, as spreadsheets read it, and never raises csv.Error.
    assert parse("id,name\nC1,Acme\rLtd\n", "text/csv") == [{"id": "C1", "name": "Acme"}, {"id": "Ltd", "name": ""}]
    try:
        parse("id,name\nC1," + "x" * 200_000 + "\n", "text/csv")   # past the csv module's field limit
    except InvalidInput as exc:
        assert "the CSV feed cannot be read at line 2" in exc.reason
    else:
        raise AssertionError("a field past the csv field limit was read")
    c = app.test_client()
    for path in ("/api/v1/customers/import", "/api/v1/stock/import"):
        r = c.post(path, data="\x00\xca\r\xf0k\r\x1d".encode(), headers={**basic("mia"), "Content-Type": "text/csv"})
        assert r.status_code in (200, 400), r.get_data(as_text=True)


def test_the_availability_api_answers_per_line_without_reserving(app, agent):
    sku = unique("AV")
    agent.stock.set_count(sku, "MAIN", 7)
    r = app.test_client().post("/api/v1/availability", headers=basic("sally"),
                               json={"lines": [{"sku": sku, "qty": 5}, {"sku": sku, "qty": 5}, {"sku": "NOPE-1", "qty": 1}]})
    assert r.status_code == 200
    assert [(l["status"], l["available"], l["backorder"]) for l in r.get_json()["lines"]] == \
        [("available", 5, 0), ("partial", 2, 3), ("backorder", 0, 1)]
    assert r.get_json()["lines"][2]["known"] is False
    assert agent.db.get(f"stock:{sku}:MAIN")["reserved"] == 0


def test_placing_an_order_through_the_api_answers_availability_per_line(app, agent, new_sku):
    sku = new_sku(4)
    r = app.test_client().post("/api/v1/orders", headers=basic("sally"),
                               json={"customer": "C0001", "lines": [{"sku": sku, "qty": 6, "unit_price": "1.00"}]})
    assert r.status_code == 201
    assert r.get_json()["availability"] == [{"line": 1, "sku": sku, "qty": 6, "status": "partial", "available": 4,
                                             "backorder": 2, "known": True, "reserved": False}]


def test_customers_and_stock_are_listed_a_page_at_a_time_by_key(app):
    c = app.test_client()
    first = c.get("/api/v1/customers?limit=3", headers=basic("rita")).get_json()
    assert [d["_id"] for d in first["customers"]] == ["customer:C0001", "customer:C0002", "customer:C0003"]
    second = c.get(f"/api/v1/customers?limit=3&after={first['next']}", headers=basic("rita")).get_json()
    assert second["customers"][0]["_id"] == "customer:C0004"
    page = c.get("/api/v1/stock?limit=2", headers=basic("rita")).get_json()
    more = c.get(f"/api/v1/stock?limit=2&after={page['next']}", headers=basic("rita")).get_json()
    keys = [(r["sku"], r["warehouse"]) for r in page["stock"] + more["stock"]]
    assert len(keys) == 4 and keys == sorted(keys) and len(set(keys)) == 4


def test_a_page_size_out_of_range_or_not_a_plain_number_is_refused_with_400(app):
    # limit outside 1..200 (the API document's range) is refused, not clamped.
    c = app.test_client()
    for path in ("/api/v1/customers", "/api/v1/stock"):
        for limit in ("0", "-3", "201", "x", "\u00b2"):
            r = c.get(path, query_string={"limit": limit}, headers=basic("rita"))
            assert r.status_code == 400 and "limit must be a whole number from 1 to 200" in r.get_json()["detail"]
        assert c.get(path, query_string={"limit": "200"}, headers=basic("rita")).status_code == 200


def test_profile_fields_that_are_not_text_are_refused_not_stored_as_their_repr(app):
    # Text is text: {"name": {"a": 1}} is refused with a sentence, never stored as "{'a': 1}".
    c = app.test_client()
    for body, needle in (({"name": {"a": 1}}, "name must be text"), ({"partner": 5}, "partner must be text"),
                         ({"credit_hold": 1}, "credit_hold must be true or false"),
                         ({"contacts": [{"name": ["Ann"]}]}, "contacts[0].name must be text")):
        r = c.put("/api/v1/customers/C0002", headers=basic("carl"), json=body)
        assert r.status_code == 400 and needle in r.get_json()["detail"], (body, r.get_json())
    assert c.get("/api/v1/customers/C0002", headers=basic("carl")).get_json()["name"] == "Globex Corporation"


def test_a_whole_number_that_is_infinite_is_refused_not_a_crash():
    # int(float("inf")) raises OverflowError, which nothing caught: a 500 on days_late: Infinity.
    from oms.crm.customers import profile_from_input
    for field in ("days_late", "credit_limit_cents"):
        try:
            profile_from_input({field: float("inf")})
        except InvalidInput as exc:
            assert f"{field} must be a whole number" in exc.reason
        else:
            raise AssertionError(f"{field}: inf was taken")


def test_stock_input_of_the_wrong_kind_is_a_400_with_the_reason_not_a_403_or_a_500(app, agent):
    # A description that is not text, or a quantity past the maximum, is the client's mistake: a
    # 400 with the reason, before validate_doc_update would refuse it (403) or a feed could fail (500).
    c = app.test_client()
    sku = unique("FZ")
    for method, path, body, needle in (
            ("put", f"/api/v1/stock/{sku}/MAIN", {"on_hand": 1, "description": [1]}, "description must be text"),
            ("put", f"/api/v1/stock/{sku}/MAIN", {"on_hand": 10**12}, "on_hand must be a whole number from 0 to"),
            ("post", "/api/v1/stock/receipts", {"sku": sku, "qty": 1, "description": {"x": 1}}, "description must be text"),
            ("post", "/api/v1/stock/receipts", {"sku": 100, "qty": 1}, 'sku must be a SKU like "WID-100"'),
            ("post", "/api/v1/availability", {"lines": [{"sku": sku, "qty": 10**7}]}, "from 1 to 1000000")):
        r = getattr(c, method)(path, headers=basic("wanda"), json=body)
        assert r.status_code == 400 and needle in r.get_json()["detail"], (body, r.get_json())
    report = c.post("/api/v1/stock/import", headers=basic("wanda"),
                    json=[{"sku": sku, "warehouse": "MAIN", "on_hand": 3, "description": 5}]).get_json()
    assert report["errors"][0]["reason"].startswith("description must be text")
    assert agent.db.get_or_none(f"stock:{sku}:MAIN") is None
