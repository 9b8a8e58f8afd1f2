"""No oversell under concurrency: clients race through the real HTTP API (the app under gunicorn
with two worker processes, as `oms serve` runs it) for the last units of one SKU; each placed
order is credit-checked and allocated by the system identity at once, and exactly the stock there
is gets reserved, the rest backordered, with no server error and the stock document's numbers
adding up. The compare-and-swap loop itself is raced directly too. (Timing: bench/.)"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from oms.devstack.embedded import free_port
from oms.wms import stock as stock_module
from oms.wms.stock import StockService, hold_key
from tests.fulfilment_fixtures import agent, new_customer, new_sku, stock_doc  # noqa: F401

CLIENTS = int(os.environ.get("OMS_RACE_CLIENTS", "50"))
UNITS = 100
EACH = 3  # 50 x 3 = 150 wanted for 100 units: one order is served partly


@pytest.fixture(scope="module")
def served(settings):
    """The app under gunicorn, two worker processes of 16 threads: claims race across processes."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                             "--worker-class", "gthread", "--threads", "16", "--timeout", "120",
                             "--log-level", "warning", "webapp.wsgi:app"],
                            env={**os.environ, **settings.to_env()})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/login", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the app did not start under gunicorn")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def place(url: str, customer: str, sku: str) -> tuple[int, dict]:
    with requests.Session() as s:
        r = s.post(f"{url}/api/v1/orders", auth=("sally", "demo"), timeout=120,
                   json={"customer": customer, "status": "submitted",
                         "lines": [{"sku": sku, "qty": EACH, "unit_price": "1.00"}]})
        return r.status_code, r.json()


def test_fifty_clients_racing_for_a_hundred_units_reserve_exactly_a_hundred(served, agent, new_customer, new_sku):
    customer = new_customer("gold", credit_limit_cents=10_000_000)
    sku = new_sku(UNITS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda _: place(served, customer, sku), range(CLIENTS)))

    statuses = [code for code, _ in results]
    assert statuses == [201] * CLIENTS, [body.get("detail") for code, body in results if code != 201][:5]
    orders = [agent.orders.get(body["number"]) for _, body in results]
    assert {o["status"] for o in orders} == {"allocated"}, sorted({o["status"] for o in orders})

    allocated = sum(a["qty"] for o in orders for a in o.get("allocations", []))
    backordered = sum(b["qty"] for o in orders for b in o.get("backorders", []))
    assert allocated == UNITS
    assert backordered == CLIENTS * EACH - UNITS
    for o in orders:  # every unit of every order is either held or waiting
        assert sum(a["qty"] for a in o["allocations"]) + sum(b["qty"] for b in o.get("backorders", [])) == EACH

    doc = stock_doc(agent, sku)
    assert (doc["on_hand"], doc["reserved"]) == (UNITS, UNITS)
    assert sum(doc["holds"].values()) == UNITS
    assert len(doc["holds"]) == sum(1 for o in orders if o["allocations"])
    assert agent.stock.audit(sku, orders) == []

    # ... and each client was told at placement what it got
    answers = [body["availability"][0] for _, body in results]
    assert sum(a["available"] for a in answers) == UNITS
    assert sorted({a["status"] for a in answers}) == ["available", "backorder", "partial"]
    assert all(a["reserved"] for a in answers)


def test_racing_claims_on_one_stock_document_lose_with_409_and_retry_until_all_is_claimed(agent, new_sku, monkeypatch):
    # No turn-taking between threads here: every claim is a bare compare-and-swap, as between
    # processes or servers.
    monkeypatch.setattr(stock_module, "turn", lambda doc_id: threading.Lock())
    sku = new_sku(20)
    services = [StockService(agent.db, agent.access) for _ in range(30)]
    with ThreadPoolExecutor(30) as pool:
        got = list(pool.map(lambda i: services[i].claim(sku, "MAIN", hold_key(f"SO-{i + 1:06d}", 1), 1), range(30)))
    assert sum(got) == 20 and got.count(0) == 10
    assert sum(s.retries for s in services) > 0  # they did collide, and the losers decided again
    doc = stock_doc(agent, sku)
    assert (doc["reserved"], len(doc["holds"]), doc["on_hand"]) == (20, 20, 20)
