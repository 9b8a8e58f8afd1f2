"""The catalog on the real server: products and price lists kept through the API, the Products page
and feeds by the [Catalog] role or a Manager (nobody else, whoever asks); orders through the API
priced from them and taxed by the ship-to country; a discount beyond a person's limit waits in
price approval until a Manager approves, and then the order is placed like any other."""
from __future__ import annotations

import uuid

import pytest

from oms.store.couch import Forbidden
from tests.fuzzing import basic
from tests.fulfilment_fixtures import agent, fulfil, new_customer, new_sku  # noqa: F401


def sku_tag(prefix="CAT") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


def test_a_product_is_kept_through_the_api_by_a_manager_and_refused_to_sales(app):
    c, sku = app.test_client(), sku_tag()
    body = {"description": "Catalog widget", "list_prices": {"EUR": "12.50", "GBP": "10,90"}}
    refused = c.put(f"/api/v1/products/{sku}", json=body, headers=basic("mia"))
    assert refused.status_code == 400 and "list_prices.GBP must be an amount" in refused.get_json()["detail"]
    made = c.put(f"/api/v1/products/{sku}", json={**body, "list_prices": {"EUR": "12.50", "GBP": "10.90"}},
                 headers=basic("mia"))
    assert made.status_code == 201 and made.get_json()["product"]["list_prices"] == {"EUR": 1250, "GBP": 1090}
    assert c.put(f"/api/v1/products/{sku}", json={"description": "Catalog widget"}, headers=basic("mia")).get_json()["result"] == "unchanged"
    sales = c.put(f"/api/v1/products/{sku}", json={"list_prices": {"EUR": "0.01"}}, headers=basic("sally"))
    assert sales.status_code == 403 and "Only the [Catalog] role" in sales.get_json()["detail"]
    assert c.get(f"/api/v1/products/{sku}", headers=basic("sally")).get_json()["list_prices"]["EUR"] == 1250
    found = c.get("/api/v1/products?q=catalog widg", headers=basic("sally")).get_json()["products"]
    assert sku in [p["sku"] for p in found]


def test_a_sales_person_cannot_write_a_product_straight_to_the_database(person):
    _, db = person("sally")
    with pytest.raises(Forbidden, match=r"Only the \[Catalog\] role"):
        db.save({"_id": "product:WID-100X", "type": "product", "sku": "WID-100X", "description": "Cheap",
                 "unit": "each", "list_prices": {"EUR": 1}, "tax_class": "standard", "status": "active"})


def test_an_api_order_without_prices_is_priced_from_the_lists_and_taxed_by_its_ship_to(app, agent):
    c = app.test_client()
    # C0001 Acme Ltd: a gold customer, ship-tos MAIN (Hamburg, DE) and EAST (Leipzig, DE); the GOLD list
    r = c.post("/api/v1/orders", headers=basic("sally"),
               json={"customer": "C0001", "customer_po": "PO-77", "shipping": "9.50",
                     "lines": [{"sku": "WID-100", "qty": 20}, {"sku": "SPR-010", "qty": 100}]})
    assert r.status_code == 201, r.get_data(as_text=True)
    doc = r.get_json()
    wid, spr = doc["lines"]
    assert (wid["unit_price_cents"], wid["price_source"], wid["tax_rate_bp"]) == (395, "pricelist:GOLD", 1900)
    assert (spr["unit_price_cents"], spr["price_source"], spr["tax_rate_bp"]) == (80, "list_price", 700)
    assert doc["ship_to"]["city"] == "Hamburg" and doc["bill_to"]["name"] == "Acme Ltd" and doc["customer_po"] == "PO-77"
    net = 20 * 395 + 100 * 80
    assert doc["totals"] == {"net_cents": net, "qty": 120, "shipping_cents": 950,
                             "tax_cents": 1501 + 560 + 181, "gross_cents": net + 950 + 1501 + 560 + 181}


def test_a_quote_prices_without_writing_and_says_why_it_would_wait(app, admin_db):
    c = app.test_client()
    before = admin_db.get("counter:order")["value"] if admin_db.get_or_none("counter:order") else 0
    r = c.post("/api/v1/orders/quote", headers=basic("sally"),
               json={"customer": "C0004", "lines": [{"sku": "GAD-310", "qty": 1, "unit_price": "20.00"}]})
    assert r.status_code == 200, r.get_data(as_text=True)
    q = r.get_json()
    # Umbrella Trading buys in GBP, in Leeds: the GBP list price, UK standard rate
    assert q["currency"] == "GBP" and q["lines"][0]["list_price_cents"] == 3450 and q["lines"][0]["tax_rate_bp"] == 2000
    assert q["needs_price_approval"] == ["line 1 (GAD-310) is 42.03% below the offered price; you may give up to 15%"]
    assert (admin_db.get("counter:order")["value"] if admin_db.get_or_none("counter:order") else 0) == before
    bad = c.post("/api/v1/orders/quote", headers=basic("sally"),
                 json={"customer": "C0001", "lines": [{"sku": "NOPE-1", "qty": "x"}, {"sku": "TOOL-KIT", "qty": 1}]})
    assert bad.status_code == 400
    assert {e["field"]: e["message"] for e in bad.get_json()["errors"]} == {
        "lines[0].qty": "Line 1: quantity must be a whole number from 1, e.g. 3, not 'x'",
        "lines[0].sku": "Line 1: NOPE-1 is not a product we sell",
        "lines[1].sku": "Line 2: TOOL-KIT (Tool kit, withdrawn) is withdrawn and can no longer be ordered"}
    withdrawn = c.post("/api/v1/orders/quote", headers=basic("sally"),
                       json={"customer": "C0001", "lines": [{"sku": "NOPE-1", "qty": 1}, {"sku": "TOOL-KIT", "qty": 1}]})
    assert {e["field"]: e["message"] for e in withdrawn.get_json()["errors"]} == {
        "lines[0].sku": "Line 1: NOPE-1 is not a product we sell",
        "lines[1].sku": "Line 2: TOOL-KIT (Tool kit, withdrawn) is withdrawn and can no longer be ordered"}


def test_a_discount_beyond_the_limit_waits_for_a_manager_then_is_placed(fulfil, new_customer, new_sku, agent):
    customer, sku = new_customer(credit_limit_cents=10_000_000), new_sku(10)
    from oms.catalog.products import ProductService
    ProductService(agent.db, agent.access).upsert(sku, {"list_prices": {"EUR": "10.00"}})
    sally = fulfil("sally")
    doc = sally.create({"customer": customer, "status": "submitted", "lines": [{"sku": sku, "qty": 2, "unit_price": "7.00"}]})
    assert doc["status"] == "price_approval" and "30% below the offered price" in doc["history"][0]["reason"]
    assert "allocations" not in doc
    with pytest.raises(Exception, match=r"Only \[Manager\]"):
        sally.act(doc["number"], "approve_price", reason="fine")
    approved = fulfil("mia").act(doc["number"], "approve_price", reason="long-standing customer")
    # approved prices go on as any submitted order: credit, then stock
    assert approved["status"] == "allocated", approved["history"]
    assert approved["price_approval"]["by"] == "mia"
    assert [h["action"] for h in approved["history"]] == ["create", "approve_price", "approve", "allocate"]


def test_a_draft_beyond_the_limit_submitted_later_asks_for_approval_and_can_be_sent_back(fulfil, new_customer, new_sku, agent):
    customer, sku = new_customer(), new_sku(10)
    from oms.catalog.products import ProductService
    ProductService(agent.db, agent.access).upsert(sku, {"list_prices": {"EUR": "10.00"}})
    sally = fulfil("sally")
    draft = sally.create({"customer": customer, "lines": [{"sku": sku, "qty": 1, "unit_price": "5.00"}]})
    asked = sally.act(draft["number"], "submit")
    assert asked["status"] == "price_approval" and asked["history"][-1]["action"] == "ask_price_approval"
    back = fulfil("mia").act(draft["number"], "reject_price", reason="50% is too much")
    assert back["status"] == "draft" and back["history"][-1]["reason"] == "50% is too much"


def test_the_products_page_lists_searches_and_saves_with_the_reason_beside_the_form(web):
    web.login("mia")
    page = web.get("/products").get_data(as_text=True)
    assert "Gold customers" in page
    # by search: the suite's own products fill the first pages by SKU
    assert "WID-100" in web.get("/products?q=WID-100").get_data(as_text=True)
    assert "withdrawn" in web.get("/products?q=TOOL-KIT").get_data(as_text=True)
    assert "GAD-310" not in web.get("/products?q=widget").get_data(as_text=True)
    sku = sku_tag("PG")
    bad = web.post(f"/products/{sku}", {"description": "Page part", "price_EUR": "1.234", "tax_class": "standard",
                                        "status": "active", "unit": "each"}, csrf_from="/products")
    assert bad.status_code == 400 and "price.EUR must be an amount" in bad.get_data(as_text=True)
    assert 'value="Page part"' in bad.get_data(as_text=True)
    ok = web.post(f"/products/{sku}", {"description": "Page part", "price_EUR": "1.25", "tax_class": "reduced",
                                       "status": "active", "unit": "each"}, csrf_from="/products")
    assert ok.status_code == 303
    assert web.get(f"/api/v1/products/{sku}", headers=basic("mia")).get_json()["tax_class"] == "reduced"
    assert f'href="/stock/{sku}"' in web.get(f"/products/{sku}").get_data(as_text=True)
    customer = web.get("/customers/C0005").get_data(as_text=True)
    assert "Ship to NL" in customer and "Stark Industries Benelux, 7 Depot Road, 5611 Eindhoven, NL" in customer


def test_a_product_feed_goes_in_row_by_row(app, person):
    c, a, b = app.test_client(), sku_tag("FD"), sku_tag("FD")
    csv = f"sku,description,price_eur,tax_class\n{a},Fed part,2.00,standard\n{b},,x,standard\n".encode()
    r = c.post("/api/v1/products/import", data=csv, headers={**basic("mia"), "Content-Type": "text/csv"})
    report = r.get_json()
    assert report["created"] == 1 and [e["row"] for e in report["errors"]] == [2]
    assert "price.EUR must be an amount" in report["errors"][0]["reason"]
    c.put(f"/api/v1/products/{a}", json={"list_prices": {"GBP": "1.70"}}, headers=basic("mia"))
    # a feed that sends one currency's price leaves the others as they are, through either door
    from oms.interchange.importing import import_bytes
    from oms.interchange.pipeline import ImportContext
    from oms.store.numbers import NumberAllocator
    access, db = person("mia")
    again = import_bytes(ImportContext(db=db, access=access, numbers=NumberAllocator()),
                         f"sku,price_eur\n{a},2.10\n".encode(), "csv")
    assert again.counts["updated"] == 1
    assert c.get(f"/api/v1/products/{a}", headers=basic("mia")).get_json()["list_prices"] == {"EUR": 210, "GBP": 170}


def test_customer_search_shows_the_credit_state(person):
    from oms.crm.customers import CustomerService
    access, db = person("sally")
    hits = CustomerService(db, access).search("acm")
    assert hits[0]["name"] == "Acme Ltd" and hits[0]["credit"]["state"] in ("ok", "near")
    late = CustomerService(db, access).search("hooli")[0]     # pays 120 days late
    assert late["credit"]["state"] == "hold" and "pays 120 days late" in late["credit"]["reasons"][0]


def test_the_order_page_shows_tax_addresses_and_the_customers_reference(app, web):
    r = app.test_client().post("/api/v1/orders", headers=basic("sally"),
                               json={"customer": "C0005", "ship_to": "NL", "customer_po": "PO-STARK-9",
                                     "lines": [{"sku": "GIZ-400", "qty": 4}]})
    doc = r.get_json()
    web.login("sally")
    page = web.get(f"/orders/{doc['number']}").get_data(as_text=True)
    assert "PO-STARK-9" in page and "Stark Industries Benelux" in page and "Eindhoven" in page
    assert "21%" in page                                   # the Dutch standard rate, shipped to Eindhoven
    assert f"EUR {doc['totals']['gross_cents'] / 100:,.2f}" in page and doc["totals"]["tax_cents"] == 609
