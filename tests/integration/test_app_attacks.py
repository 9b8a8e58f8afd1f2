"""Attacks on the web app itself, each refused with a clear 4xx and nothing written: redirects
off the site after sign-in, request bodies the JSON parser or the database cannot take, numbers
in other scripts' digits, and spreadsheet formulas through every CSV export path."""
from __future__ import annotations

import base64
import csv
import io
import json
import uuid

import pytest
from click.testing import CliRunner

from oms.interchange.csvtext import FORMULA_START
from oms.interchange.formats import read_csv

FORMULA = "=cmd|' /C calc'!A0"


def basic(name: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}


@pytest.mark.parametrize("nxt", ["/%09/evil.example", "/%0d%0aSet-Cookie:%20x=1", "/%0a/evil.example",
                                 "/%20/evil.example", "/\u00e9/x"])
def test_sign_in_never_follows_a_next_with_control_characters(web, nxt):
    r = web.c.post(f"/login?next={nxt}", data={"username": "sally", "password": "demo", "csrf_token": web.csrf()})
    assert r.status_code == 303
    assert r.headers["Location"] in ("/", "http://localhost/"), r.headers["Location"]


def test_sign_in_still_follows_a_plain_path_on_the_site(web):
    r = web.c.post("/login?next=/views/all_orders?sort=customer", data={
        "username": "sally", "password": "demo", "csrf_token": web.csrf()})
    assert r.status_code == 303 and r.headers["Location"].endswith("/views/all_orders?sort=customer")


def _orders_of(admin_db, external_ref: str) -> list:
    res = admin_db.find({"selector": {"type": "order", "external_ref": external_ref}, "limit": 5})
    return res["docs"]


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"customer": "C0001", "lines": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
], ids=["array", "inside-an-order"])
def test_json_nested_deeply_is_a_clear_400(app, body):
    r = app.test_client().post("/api/v1/orders", data=body, headers={**basic("sally"), "Content-Type": "application/json"})
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert "not valid JSON" in r.get_json()["detail"]


def test_a_lone_surrogate_in_text_is_a_clear_400_and_nothing_is_written(app, admin_db, seeded):
    ref = f"SURR-{uuid.uuid4().hex[:8]}"
    body = ('{"customer": "C0001", "external_ref": "%s", "notes": "bad \\ud800 text", '
            '"lines": [{"sku": "WID-100", "qty": 1, "unit_price": "4.50"}]}' % ref).encode()
    r = app.test_client().post("/api/v1/orders", data=body, headers={**basic("sally"), "Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.get_json()["detail"]
    assert _orders_of(admin_db, ref) == []
    # a proper pair (an emoji written as two escapes) is text like any other
    ok = body.replace(b"\\ud800", b"\\ud83d\\ude00").replace(ref.encode(), (ref + "-ok").encode())
    r = app.test_client().post("/api/v1/orders", data=ok, headers={**basic("sally"), "Content-Type": "application/json"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json()["notes"] == "bad \U0001F600 text"


@pytest.mark.parametrize("price,qty", [("\u0661\u0662.50", 1), ("12.50", "\u0663"), ("1_000", 1), ("12.50", "1_0")])
def test_numbers_in_other_scripts_or_with_underscores_are_refused(app, admin_db, seeded, price, qty):
    ref = f"DIG-{uuid.uuid4().hex[:8]}"
    r = app.test_client().post("/api/v1/orders", json={
        "customer": "C0001", "external_ref": ref, "lines": [{"sku": "WID-100", "qty": qty, "unit_price": price}]},
        headers=basic("sally"))
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["detail"].startswith("Line 1: ")
    assert [e["field"] for e in r.get_json()["errors"]] == ["lines[0].unit_price" if price != "12.50" else "lines[0].qty"]
    assert _orders_of(admin_db, ref) == []


# ------------------------------------------------------------------ CSV formulas, every path
@pytest.fixture(scope="module")
def formula_order(admin_db, service, seeded):
    cid = f"F{uuid.uuid4().hex[:6].upper()}"
    admin_db.save({"_id": f"customer:{cid}", "type": "customer", "name": FORMULA, "tier": "bronze", "currency": "EUR"})
    return service("sally").create({"customer": cid, "external_ref": f"@SUM(A1)-{cid}", "notes": FORMULA,
                                    "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "4.50",
                                               "description": "+HYPERLINK(\"x\")"}]})


def assert_no_live_formula(text: str, number: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    mine = [r for r in rows if number in r]
    assert mine, f"{number} is not in the export"
    for row in rows:
        for value in row:
            if value.startswith(FORMULA_START):
                float(value.replace(",", ""))  # only a number may start like a formula
    assert any(("'" + FORMULA) in r for r in mine)
    return mine


def test_the_desk_export_writes_formulas_as_text(web, formula_order):
    web.login("rita")
    assert_no_live_formula(web.get("/views/all_orders/export.csv").get_data(as_text=True), formula_order["number"])


def test_the_transfer_page_writes_formulas_as_text(web, formula_order):
    web.login("rita")
    for shape in ("rows", "orders"):
        r = web.get(f"/transfer/export?view=all_orders&format=csv&shape={shape}")
        assert r.status_code == 200
        assert_no_live_formula(r.get_data(as_text=True), formula_order["number"])


def test_the_api_export_writes_formulas_as_text_in_both_shapes(app, formula_order):
    c = app.test_client()
    for shape in ("rows", "orders"):
        r = c.get(f"/api/v1/views/all_orders/export?format=csv&shape={shape}", headers=basic("rita"))
        assert r.status_code == 200
        assert_no_live_formula(r.get_data(as_text=True), formula_order["number"])


def test_oms_export_writes_formulas_as_text(settings, tmp_path, formula_order):
    from oms.cli.main import main
    out = tmp_path / "all.csv"
    res = CliRunner().invoke(main, ["export", "all_orders", "--format", "csv", "--shape", "orders",
                                    "--out", str(out), "--as", "rita"], env=settings.to_env())
    assert res.exit_code == 0, res.output
    assert_no_live_formula(out.read_text(), formula_order["number"])


def test_an_exported_order_imports_back_with_its_text_as_it_was(web, formula_order):
    web.login("rita")
    text = web.get(f"/transfer/export?view=all_orders&format=csv&shape=orders&numbers={formula_order['number']}"
                   ).get_data(as_text=True)
    (record,) = read_csv(text, "orders")
    assert record.data["notes"] == FORMULA
    assert record.data["lines"][0]["description"] == "+HYPERLINK(\"x\")"
