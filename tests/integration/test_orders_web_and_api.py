"""Create and read orders through the web form and the JSON API, as the person, with real
servers; bad input answers 400 with the reason, unknown ids 404."""
import base64
import re

import pytest


def basic(name, password="demo"):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_an_order_created_on_the_web_form_shows_on_its_page_and_in_all_orders(web):
    web.login("sally")
    r = web.post("/orders/new", {"customer": "C0002", "line-0-sku": "gad-310", "line-0-qty": "2",
                                 "line-0-unit_price": "39.90", "notes": "rush"})
    assert r.status_code == 303, r.get_data(as_text=True)
    number = r.headers["Location"].rsplit("/", 1)[1]
    page = web.get(f"/orders/{number}").get_data(as_text=True)
    assert "GAD-310" in page and "79.80" in page and "Globex Corporation" in page
    listing = web.get("/views/all_orders").get_data(as_text=True)
    # the newest order is on the last page of numbers; walk pages by key until found
    found = number in listing
    while not found and 'rel="next"' in listing:
        import re
        nxt = re.search(r'href="([^"]+)"[^>]*rel="next"', listing).group(1).replace("&amp;", "&")
        listing = web.get(nxt).get_data(as_text=True)
        found = number in listing
    assert found


def test_the_web_form_refuses_bad_lines_and_keeps_what_was_typed(web):
    web.login("sally")
    r = web.post("/orders/new", {"customer": "C0002", "line-0-sku": "GAD-310", "line-0-qty": "two",
                                 "line-0-unit_price": "39.90"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Line 1: quantity must be a whole number" in html
    assert 'value="GAD-310"' in html


def test_the_api_creates_an_order_and_reads_it_back(app):
    c = app.test_client()
    r = c.post("/api/v1/orders", headers=basic("sally"),
               json={"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 4, "unit_price": "4.50"}]})
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()
    assert doc["totals"]["net_cents"] == 1800 and doc["created_by"] == "sally"
    got = c.get(r.headers["Location"], headers=basic("sally"))
    assert got.status_code == 200 and got.get_json()["_rev"] == doc["_rev"]


@pytest.mark.parametrize("body,kwargs,needle", [
    (None, {"data": "{not json", "content_type": "application/json"}, "not valid JSON"),
    (None, {"data": "a=b", "content_type": "application/x-www-form-urlencoded"}, "Content-Type: application/json"),
    ([1, 2], {}, "JSON object"),
    ({"customer": "C0001", "lines": [{"sku": "WID-100", "qty": -1, "unit_price": "1"}]}, {}, "Line 1: quantity"),
    ({"customer": "C9999", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "1"}]}, {}, "unknown customer"),
    ({"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "1"}], "x": 1}, {}, "unknown field"),
    # text fields take text only (never a value's repr), and JSON is the standard's: no
    # NaN/Infinity, which CouchDB cannot store
    ({"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "1"}], "notes": {"a": 1}}, {},
     "notes must be text"),
    ({"customer": "C0001", "lines": [{"sku": 100, "qty": 1, "unit_price": "1"}]}, {}, "Line 1: the product must be text"),
    ({"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "1", "description": ["x"]}]}, {},
     "Line 1: description must be text"),
    (None, {"data": '{"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": Infinity}]}',
            "content_type": "application/json"}, "not valid JSON"),
])
def test_bad_api_input_is_a_400_problem_with_the_reason(app, body, kwargs, needle):
    c = app.test_client()
    r = c.post("/api/v1/orders", headers=basic("sally"), **({"json": body} if body is not None else kwargs))
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert needle in r.get_json()["detail"]


def test_an_edit_that_breaks_the_document_shape_is_a_400_with_the_reason_not_a_403(app):
    # Bad input is answered 400 by the app, before validate_doc_update would refuse it (403).
    c = app.test_client()
    number = c.post("/api/v1/orders", headers=basic("sally"), json={
        "customer": "C0001", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "1"}]}).get_json()["number"]
    r = c.post(f"/api/v1/orders/{number}/actions", headers=basic("sally"),
               json={"action": "edit", "changes": {"notes": {"a": 1}}})
    assert r.status_code == 400 and "notes must be text" in r.get_json()["detail"]
    assert c.get(f"/api/v1/orders/{number}", headers=basic("sally")).get_json()["version"] == 1


def test_an_unknown_order_is_a_404_problem(app):
    r = app.test_client().get("/api/v1/orders/SO-999999", headers=basic("sally"))
    assert r.status_code == 404 and r.get_json()["status"] == 404


def test_the_api_refuses_wrong_credentials_with_a_challenge(app):
    r = app.test_client().get("/api/v1/orders/SO-000001", headers=basic("sally", "nope"))
    assert r.status_code == 401
    assert "Basic" in r.headers["WWW-Authenticate"]


def test_htmx_is_served_from_our_static_folder(app):
    c = app.test_client()
    r = c.get("/static/htmx.min.js")
    assert r.status_code == 200 and b"htmx" in r.data[:2000]
    html = c.get("/login").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources


def test_a_refused_step_says_why_and_leads_back_to_its_order(web):
    web.login("sally")
    r = web.post("/orders/new", {"customer": "C0002", "line-0-sku": "gad-310", "line-0-qty": "1",
                                 "line-0-unit_price": "39.90"})
    number = r.headers["Location"].rsplit("/", 1)[1]
    refused = web.post(f"/orders/{number}/act", {"action": "no-such-step"}, csrf_from=f"/orders/{number}")
    page = refused.get_data(as_text=True)
    assert refused.status_code in (400, 403, 409)
    assert f'href="/orders/{number}"' in page and f"Back to order {number}" in page
    assert "Back to the desk" in page
    # an unknown order has nothing to go back to but the desk
    missing = web.post("/orders/SO-999999/act", {"action": "submit"}, csrf_from=f"/orders/{number}").get_data(as_text=True)
    assert "Back to order" not in missing and "Back to the desk" in missing
