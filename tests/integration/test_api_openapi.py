"""The API against its OpenAPI document (webapp/api/openapi.py, served at /api/openapi.json): every
route under /api is described (and every description has a route), and real answers of the
real app on real servers match the documented statuses, media types and schemas."""
from __future__ import annotations

import base64
import re
import uuid

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec


def basic(name, password="demo"):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


@pytest.fixture(scope="module")
def spec(app):
    r = app.test_client().get("/api/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.get_json()


def check(spec, method: str, path: str, resp):
    """The answer is documented: its status, its media type, and (JSON) its schema."""
    op = spec["paths"][path][method.lower()]
    status = str(resp.status_code)
    assert status in op["responses"], f"{method} {path} answered {status}: {resp.get_data(as_text=True)[:300]}"
    content = op["responses"][status].get("content", {})
    assert resp.mimetype in content, f"{method} {path} {status} answered {resp.mimetype}, documented {list(content)}"
    if resp.mimetype.endswith("json"):
        schema = dict(content[resp.mimetype]["schema"], components=spec["components"])
        OAS30Validator(schema).validate(resp.get_json())
    return resp


def api_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield path, method.lower()


def test_the_document_is_valid_openapi(spec):
    validate_spec(spec)
    assert spec["openapi"].startswith("3.")


def test_every_api_route_is_in_the_document_and_every_documented_path_has_a_route(app, spec):
    routes = set(api_rules(app))
    documented = {(p, m) for p, ops in spec["paths"].items() for m in ops}
    assert routes - documented == set(), "routes without an OpenAPI description (add them to webapp/api/openapi.py)"
    assert documented - routes == set(), "OpenAPI paths without a route"


def test_every_create_takes_an_idempotency_key_and_every_error_is_a_problem_document(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            takes_key = any(p.get("name") == "Idempotency-Key" for p in op.get("parameters", ()))
            if "201" in op["responses"] and method != "put":   # a PUT is idempotent by itself
                assert takes_key, (method, path)
            if takes_key:   # the key reused for another request
                assert "422" in op["responses"], (method, path)
            for status, resp in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(resp["content"]) == ["application/problem+json"], (method, path, status)


def test_orders_answer_as_documented(app, spec):
    c = app.test_client()
    body = {"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 2, "unit_price": "4.50"}]}
    created = check(spec, "POST", "/api/v1/orders", c.post("/api/v1/orders", json=body, headers={
        **basic("sally"), "Idempotency-Key": str(uuid.uuid4())}))
    number = created.get_json()["number"]
    check(spec, "GET", "/api/v1/orders/{number}", c.get(f"/api/v1/orders/{number}", headers=basic("sally")))
    check(spec, "GET", "/api/v1/orders/{number}", c.get("/api/v1/orders/SO-999999", headers=basic("sally")))
    page = check(spec, "GET", "/api/v1/orders", c.get("/api/v1/orders?limit=5", headers=basic("sally"))).get_json()
    assert len(page["rows"]) == 5 and page["next"]
    nxt = check(spec, "GET", "/api/v1/orders", c.get(f"/api/v1/orders?limit=5&after={page['next']}",
                                                     headers=basic("sally"))).get_json()
    assert {r["id"] for r in nxt["rows"]}.isdisjoint(r["id"] for r in page["rows"])
    check(spec, "GET", "/api/v1/orders", c.get("/api/v1/orders?view=nope", headers=basic("sally")))
    check(spec, "GET", "/api/v1/orders", c.get("/api/v1/orders?after=garbage", headers=basic("sally")))
    for limit in ("0", "501", "\u00b2"):   # "\u00b2".isdigit() is true, int() refuses it: was a 500
        bad = check(spec, "GET", "/api/v1/orders", c.get("/api/v1/orders", query_string={"limit": limit},
                                                         headers=basic("sally")))
        assert bad.status_code == 400 and "limit must be a whole number" in bad.get_json()["detail"]
    check(spec, "POST", "/api/v1/orders", c.post("/api/v1/orders", json={"customer": "C0001"}, headers=basic("sally")))
    check(spec, "POST", "/api/v1/orders", c.post("/api/v1/orders", json=body, headers=basic("sally", "wrong")))


def test_actions_amend_and_cancel_answer_as_documented(app, spec):
    c = app.test_client()
    # a customer with a tiny credit limit, so the credit hand-off holds the order for [Credit]
    assert c.put("/api/v1/customers/OA-TIGHT", json={"name": "Tight Ltd", "tier": "bronze", "credit_limit": "1.00"},
                 headers=basic("carl")).status_code in (200, 201)
    number = c.post("/api/v1/orders", json={"customer": "OA-TIGHT", "status": "submitted",
                                            "lines": [{"sku": "GAD-310", "qty": 1, "unit_price": "39.90"}]},
                    headers=basic("sally")).get_json()["number"]
    path = "/api/v1/orders/{number}/actions"
    url = f"/api/v1/orders/{number}/actions"
    approved = check(spec, "POST", path, c.post(url, json={"action": "approve", "reason": "paid up front"},
                                                headers=basic("carl"))).get_json()
    assert approved["status"] in ("approved", "allocated")  # the warehouse hand-off may follow at once
    refused = check(spec, "POST", path, c.post(url, json={"action": "approve", "reason": "again"}, headers=basic("carl")))
    assert refused.status_code == 400 and "cannot be taken from" in refused.get_json()["detail"]
    stale = check(spec, "POST", path, c.post(url, json={"action": "hold_credit", "reason": "x", "rev": "1-abc"},
                                             headers=basic("carl")))
    assert stale.status_code == 409
    amended = check(spec, "POST", path, c.post(url, json={
        "action": "amend", "reason": "customer wants three",
        "changes": {"lines": [{"sku": "GAD-310", "qty": 3, "unit_price": "39.90"}]}}, headers=basic("sally"))).get_json()
    # back through credit: over the tiny limit again, so it waits on credit hold
    assert amended["status"] == "credit_hold" and amended["totals"]["net_cents"] == 11970 and amended["version"] == 2
    no_reason = check(spec, "POST", path, c.post(url, json={"action": "cancel"}, headers=basic("sally")))
    assert no_reason.status_code == 400 and "needs a reason" in no_reason.get_json()["detail"]
    cancelled = check(spec, "POST", path, c.post(url, json={"action": "cancel", "reason": "duplicate"},
                                                 headers=basic("sally"))).get_json()
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "duplicate"
    forbidden = check(spec, "POST", path, c.post(f"/api/v1/orders/{number}/actions", json={"action": "close"},
                                                 headers=basic("rita")))
    assert forbidden.status_code in (400, 403)
    check(spec, "POST", path, c.post(url, data="x", headers={**basic("sally"), "Content-Type": "text/plain"}))


def test_comments_answer_as_documented_and_list_oldest_first(app, spec):
    c = app.test_client()
    number = c.post("/api/v1/orders", json={"customer": "C0003", "lines": [{"sku": "SPR-010", "qty": 5, "unit_price": 1}]},
                    headers=basic("sally")).get_json()["number"]
    url = f"/api/v1/orders/{number}/comments"
    path = "/api/v1/orders/{number}/comments"
    for i in range(3):
        posted = check(spec, "POST", path, c.post(url, json={"text": f"note {i}"}, headers=basic("carl" if i else "sally")))
        assert posted.status_code == 201 and posted.get_json()["parent"] == f"order:{number}"
    first = check(spec, "GET", path, c.get(url + "?limit=2", headers=basic("rita"))).get_json()
    assert [x["text"] for x in first["comments"]] == ["note 0", "note 1"] and first["next"]
    rest = check(spec, "GET", path, c.get(f"{url}?limit=2&after={first['next']}", headers=basic("rita"))).get_json()
    assert [x["text"] for x in rest["comments"]] == ["note 2"] and rest["next"] is None
    check(spec, "POST", path, c.post(url, json={"text": ""}, headers=basic("sally")))
    check(spec, "POST", path, c.post("/api/v1/orders/SO-999999/comments", json={"text": "x"}, headers=basic("sally")))


def test_views_export_import_and_events_answer_as_documented(app, spec):
    c = app.test_client()
    views = check(spec, "GET", "/api/v1/views", c.get("/api/v1/views", headers=basic("rita"))).get_json()
    assert "all_orders" in [v["name"] for v in views["views"]]
    exp = check(spec, "GET", "/api/v1/views/{name}/export",
                c.get("/api/v1/views/all_orders/export?format=json", headers=basic("rita")))
    assert exp.get_json()["view"] == "all_orders"
    csv = check(spec, "GET", "/api/v1/views/{name}/export", c.get("/api/v1/views/all_orders/export", headers=basic("rita")))
    assert csv.get_data(as_text=True).startswith("Number,Customer,Status")
    check(spec, "GET", "/api/v1/views/{name}/export", c.get("/api/v1/views/nope/export", headers=basic("rita")))
    check(spec, "GET", "/api/v1/views/{name}/export", c.get("/api/v1/views/all_orders/export?format=pdf", headers=basic("rita")))
    t = uuid.uuid4().hex[:6]
    report = check(spec, "POST", "/api/v1/imports", c.post(
        "/api/v1/imports", data=f"external_ref,customer,sku,qty,unit_price\nAPI-{t},C0001,WID-100,1,4.50\n,C0001,X,1,1\n",
        headers={**basic("sally"), "Content-Type": "text/csv"})).get_json()
    assert report["counts"]["created"] == 1 and report["problems"][0]["line"] == 3
    check(spec, "POST", "/api/v1/imports", c.post("/api/v1/imports", data=b"<!DOCTYPE x [<!ENTITY a 'b'>]><orderdesk/>",
                                                  headers={**basic("sally"), "Content-Type": "application/xml"}))
    png = check(spec, "POST", "/api/v1/imports", c.post("/api/v1/imports", data=b"x", headers={
        **basic("sally"), "Content-Type": "image/png"}))
    assert png.status_code == 415
    check(spec, "GET", "/api/v1/events", c.get("/api/v1/events?limit=3", headers=basic("rita")))


def test_errors_are_problem_documents_never_html(app):
    c = app.test_client()
    for r in (c.get("/api/v1/nowhere", headers=basic("sally")), c.delete("/api/v1/orders", headers=basic("sally")),
              c.get("/api/v1/orders/SO-000001"), c.post("/api/v1/orders", data="{", headers=basic("sally"),
                                                         content_type="application/json")):
        assert r.mimetype == "application/problem+json", r.get_data(as_text=True)[:200]
        assert set(r.get_json()) >= {"status", "title", "detail"}
