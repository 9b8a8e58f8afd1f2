"""Availability check through the API (POST /api/v1/availability: the answer an order entry clerk
or a shop front gets before placing) against one raw view lookup of the same SKU's stock on the
same server, as the same person, in the same run: p95 latency of each, one client at a time."""
from __future__ import annotations

import random
import time

import requests

from oms.identity import people

from .common import Report, app_server, fresh_stack, percentile, size, wait_for_index

WAREHOUSES = ("MAIN", "EAST", "WEST")


def _latencies(n: int, call) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(report: Report) -> None:
    n, n_skus = size(2_000, 40), size(5_000, 50)
    rnd = random.Random(8)
    with fresh_stack() as stack:
        s = stack.settings
        admin = stack.server().admin(s.db_name)
        skus = [f"AV-{i:05d}" for i in range(n_skus)]
        for start in range(0, len(skus), 500):
            admin.bulk([{"_id": f"stock:{sku}:{wh}", "type": "stock", "sku": sku, "warehouse": wh,
                         "on_hand": rnd.randint(0, 50), "reserved": 0, "holds": {}}
                        for sku in skus[start:start + 500] for wh in WAREHOUSES])
        picks = [rnd.choice(skus) for _ in range(n)]
        # the stock view's index is built before anything is timed (a cluster times out a query
        # that would wait for it too long)
        wait_for_index(stack.server(), s.db_name, "oms", "stock_by_sku", progress=lambda *_: None)
        with app_server(s) as url:
            app = requests.Session()
            app.auth = ("sally", "demo")

            def check(i):
                r = app.post(url + "/api/v1/availability", json={"lines": [{"sku": picks[i], "qty": 5}]}, timeout=30)
                assert r.status_code == 200 and r.json()["lines"][0]["sku"] == picks[i], r.text

            # warm up: sign-in (LDAP bind, cached a minute), the view index, connections
            _latencies(min(50, n), check)
            raw = requests.Session()
            raw.auth = ("sally", people.couch_password(s.secret_key, "sally"))
            view = f"{s.couchdb_url}/{s.db_name}/_design/oms/_view/stock_by_sku"

            def lookup(i):
                r = raw.post(view, json={"start_key": [picks[i]], "end_key": [picks[i], {}]}, timeout=30)
                assert r.status_code == 200 and len(r.json()["rows"]) == len(WAREHOUSES), r.text

            _latencies(min(50, n), lookup)
            app_ms, raw_ms = [], []
            for start in range(0, n, 100):   # interleaved, so both see the same machine load
                app_ms += _latencies(min(100, n - start), lambda i: check(start + i))
                raw_ms += _latencies(min(100, n - start), lambda i: lookup(start + i))
    p95_app, p95_raw = percentile(app_ms, 95), percentile(raw_ms, 95)
    report.line("availability_p95_vs_raw_view", p95_app, p95_raw, "ms p95", p95_app / p95_raw, "<= 1.5")
    report.note(f"p50 app {percentile(app_ms, 50):.2f} ms, raw {percentile(raw_ms, 50):.2f} ms; {n} checks of one "
                f"line over {n_skus:,} SKUs x {len(WAREHOUSES)} warehouses; the app's figure includes HTTP "
                "through gunicorn, sign-in check and the JSON answer")


if __name__ == "__main__":
    r = Report()
    run(r)
    r.finish()
