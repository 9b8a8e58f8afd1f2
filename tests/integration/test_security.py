"""Security promises: throttled sign-in, escaped text everywhere, CSRF on forms, cookie flags,
headers (CSP without inline script, no framing, nosniff), no open redirect, no secrets in logs."""
import base64
import logging
import re

import pytest

from tests.conftest import WebClient

XSS = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>'


@pytest.fixture
def fresh_app(stack, seeded):
    from webapp import create_app
    return create_app({"TESTING": True, "OMS_THROTTLE": {"max_failures": 3}}, settings=stack.settings)


def from_address(app, address: str) -> WebClient:
    web = WebClient(app)
    web.c.environ_base["REMOTE_ADDR"] = address
    return web


def test_a_stranger_failing_a_name_slows_only_their_own_tries_and_the_owner_still_gets_in(fresh_app):
    stranger = from_address(fresh_app, "10.0.0.66")
    for _ in range(3):
        assert stranger.login("bill", "guess").status_code == 401
    r = stranger.login("bill", "demo")  # even the right password, from that address, waits a moment
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.get_data(as_text=True)
    assert 0 < int(r.headers["Retry-After"]) <= 2
    assert from_address(fresh_app, "10.0.0.7").login("bill", "demo").status_code == 303   # the owner
    assert stranger.login("sam", "demo").status_code == 303   # another name from that address


def test_api_basic_auth_is_throttled_the_same_way(fresh_app):
    def get(address, password):
        auth = {"Authorization": "Basic " + base64.b64encode(f"wanda:{password}".encode()).decode()}
        return fresh_app.test_client().get("/api/v1/orders/SO-000001", headers=auth,
                                           environ_base={"REMOTE_ADDR": address})
    for _ in range(3):
        assert get("10.0.0.66", "nope").status_code == 401
    r = get("10.0.0.66", "demo")
    assert r.status_code == 429 and r.get_json()["status"] == 429
    assert get("10.0.0.8", "demo").status_code in (200, 404)   # wanda herself, from her desk


def test_the_wait_doubles_with_each_failure_up_to_five_minutes_and_old_failures_stop_counting():
    from webapp.throttle import Throttle
    now = [1000.0]
    t = Throttle(max_failures=3, clock=lambda: now[0])
    keys = t.keys("mia", "10.0.0.66")
    waits = []
    for _ in range(12):
        t.failed(keys)
        waits.append(t.retry_after(keys))
    assert waits[:2] == [0, 0] and waits[2:6] == [2, 4, 8, 16] and waits[-1] == 300
    assert t.retry_after(t.keys("mia", "10.0.0.7")) == 0      # never the name as a whole
    now[0] += 901                                             # outside the window
    assert t.retry_after(keys) == 0
    t.failed(keys)
    t.succeeded(keys)
    assert t.retry_after(keys) == 0


def test_one_address_failing_many_names_waits_as_a_whole():
    from webapp.throttle import Throttle
    now = [0.0]
    t = Throttle(max_failures=3, address_failures=30, clock=lambda: now[0])
    for i in range(31):
        t.failed(t.keys(f"name{i}", "10.0.0.66"))
    assert t.retry_after(t.keys("someone-new", "10.0.0.66")) > 0
    assert t.retry_after(t.keys("someone-new", "10.0.0.7")) == 0


def test_text_fields_come_back_escaped(web, app):
    web.login("sally")
    r = web.post("/orders/new", {"customer": "C0001", "line-0-sku": "WID-100", "line-0-qty": "1",
                                 "line-0-unit_price": "1", "line-0-description": XSS, "notes": XSS})
    assert r.status_code == 303
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # a bad value echoed back in an error is escaped too
    r = web.post("/orders/new", {"customer": XSS[:30], "line-0-sku": "A", "line-0-qty": "1", "line-0-unit_price": "1"})
    assert r.status_code == 400 and "<script>" not in r.get_data(as_text=True)


def test_every_page_carries_the_security_headers(web):
    web.login("sally")
    for path in ("/login", "/views/all_orders", "/orders/new", "/nope"):
        h = web.get(path).headers
        csp = h["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_inline_script_or_style():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    for t in [*(root / "webapp" / "templates").glob("*.html"), *(root / "oms" / "billing" / "templates").glob("*.html")]:
        html = t.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), f"inline script in {t.name}"
        assert not re.search(r"\sstyle=|<style", html), f"inline style in {t.name}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler in {t.name}"


def test_forms_without_a_csrf_token_are_refused(web):
    web.login("sally")
    r = web.c.post("/orders/new", data={"customer": "C0001", "line-0-sku": "WID-100", "line-0-qty": "1", "line-0-unit_price": "1"})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)


def test_session_cookie_is_secure_when_served_over_tls(stack, seeded, monkeypatch):
    from webapp import create_app
    monkeypatch.setenv("OMS_SECURE_COOKIES", "1")
    web = WebClient(create_app({"TESTING": True}, settings=stack.settings))
    cookie = web.login("sally").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_never_redirects_off_site(web):
    for nxt in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = web.c.post(f"/login?next={nxt}", data={"username": "sally", "password": "demo", "csrf_token": web.csrf()})
        assert r.status_code == 303
        assert r.headers["Location"] in ("/", "http://localhost/"), r.headers["Location"]


def test_secrets_are_never_logged(web, app, settings, caplog):
    caplog.set_level(logging.DEBUG)
    web.login("sally", "not-the-password")
    web.login("sally")
    app.test_client().get("/api/v1/orders/SO-000001",
                          headers={"Authorization": "Basic " + base64.b64encode(b"sally:demo").decode()})
    text = caplog.text
    assert "not-the-password" not in text
    assert settings.secret_key not in text and settings.couchdb_password not in text
    from oms.identity import people
    assert people.couch_password(settings.secret_key, "sally") not in text
