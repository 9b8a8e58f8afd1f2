"""Reservation under a race, timed against the raw server in the same run.

    .venv/bin/python bench/bench_reservation.py [--clients 50] [--units 100] [--each 3] [--rounds 3]

Starts its own embedded CouchDB (PouchDB Server) and demo slapd in a temporary folder (or uses
COUCHDB_URL / LDAP_URL when set), serves the app under gunicorn (as `oms serve` does), then per
round: CLIENTS clients each place one submitted order for EACH units of one SKU that has UNITS on
hand, all at once, through POST /api/v1/orders. Each order is credit-checked and allocated by the
system identity inside the request. It checks the outcome (exactly UNITS reserved, the rest
backordered, no server error, the stock numbers add up) and prints:

  raw      CLIENTS clients writing new single documents straight to the server (no app)
  hot      CLIENTS clients claiming units of ONE stock document by compare-and-swap (no app)
  orders   the full race through the API
and the ratios: how many raw single-document writes one placed-and-allocated order costs."""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_databases, like_for_like, raw_quorums  # noqa: E402
from oms.core.config import Settings, scratch_secret  # noqa: E402
from oms.catalog.products import ProductService  # noqa: E402
from oms.crm.customers import CustomerService  # noqa: E402
from oms.devstack import runtime  # noqa: E402
from oms.devstack.embedded import free_port  # noqa: E402
from oms.identity import people
from oms.wms.stock import StockService, hold_key  # noqa: E402


def machine() -> str:
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.node()}: {os.cpu_count()} CPU(s) {cpu}, Python {platform.python_version()}"


def serve(settings: Settings, port: int) -> subprocess.Popen:
    env = {**os.environ, **settings.to_env(), "OMS_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                             "--worker-class", "gthread", "--threads", "16", "--timeout", "120",
                             "--log-level", "warning", "webapp.wsgi:app"], env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start under gunicorn")


def timed(n_clients: int, jobs: list) -> tuple[float, list]:
    """Run the jobs on n_clients threads at once; seconds from the first start to the last end."""
    with ThreadPoolExecutor(n_clients) as pool:
        t0 = time.perf_counter()
        futures = [pool.submit(job) for job in jobs]
        results = [f.result() for f in futures]
        return time.perf_counter() - t0, results


def raw_writes(server, db_name: str, clients: int, total: int, params: dict | None = None) -> float:
    """Seconds for `total` new single documents, written by `clients` threads as the admin (with
    `params`: the write quorum asked for)."""
    url = f"{server.url}/{db_name}"
    auth = server._admin
    local = threading.local()

    def one():
        s = getattr(local, "s", None) or requests.Session()
        local.s = s
        r = s.put(f"{url}/bench:raw:{uuid.uuid4().hex}", json={"type": "counter", "value": 1}, params=params or {},
                  auth=auth, timeout=60)
        return r.status_code

    secs, codes = timed(clients, [one] * total)
    # 202: taken, though not yet by as many copies as asked (a cluster copy slow to answer); the
    # app's ordinary writes take it the same way
    assert set(codes) <= {201, 202}, sorted(set(codes))
    if 202 in codes:
        print(f"  raw: {codes.count(202)} of {total} writes answered 202 (fewer copies than asked)")
    return secs


def hot_claims(stock: StockService, clients: int, units: int) -> tuple[float, int]:
    """Seconds for `clients` threads each claiming one unit of one document by CAS; 409s met."""
    sku = f"HOT-{uuid.uuid4().hex[:8].upper()}"
    stock.set_count(sku, "MAIN", units)
    numbers = iter(range(1, clients + 1))
    lock = threading.Lock()

    def one():
        with lock:
            n = next(numbers)
        svc = StockService(stock.db, stock.access)
        got = svc.claim(sku, "MAIN", hold_key(f"SO-{n:06d}", 1), 1)
        return got, svc.retries

    secs, results = timed(clients, [one] * clients)
    assert sum(g for g, _ in results) == min(clients, units)
    return secs, sum(r for _, r in results)


def race(url: str, agent_db, customer: str, clients: int, units: int, each: int) -> tuple[float, dict]:
    sku = f"RACE-{uuid.uuid4().hex[:8].upper()}"
    ProductService(agent_db[1], agent_db[0]).upsert(sku, {"description": "Raced part", "list_prices": {"EUR": "1.00"}})
    StockService(agent_db[1], agent_db[0]).set_count(sku, "MAIN", units)
    local = threading.local()

    def one():
        s = getattr(local, "s", None) or requests.Session()
        local.s = s
        r = s.post(f"{url}/api/v1/orders", auth=("sally", "demo"), timeout=120,
                   json={"customer": customer, "status": "submitted", "lines": [{"sku": sku, "qty": each, "unit_price": "1.00"}]})
        return r.status_code, r.json()

    secs, results = timed(clients, [one] * clients)
    errors = [b.get("detail") for c, b in results if c != 201]
    access, db = agent_db
    orders = [db.get(f"order:{b['number']}") for c, b in results if c == 201]
    stock = db.get(f"stock:{sku}:MAIN")
    allocated = sum(a["qty"] for o in orders for a in o.get("allocations", []))
    backordered = sum(b["qty"] for o in orders for b in o.get("backorders", []))
    check = {
        "server errors": sum(1 for c, _ in results if c >= 500), "other errors": errors[:3],
        "reserved": stock["reserved"], "allocated": allocated, "backordered": backordered,
        "adds up": (stock["reserved"] == sum(stock["holds"].values()) == allocated == min(units, clients * each)
                    and allocated + backordered == clients * each and stock["on_hand"] == units),
        "stock writes": int(stock["_rev"].split("-")[0]) - 1,
    }
    return secs, check


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--each", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--raw", type=int, default=500, help="raw single-document writes per round")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="oms-bench-"))
    env = Settings.from_env()
    settings = env.with_(data_dir=tmp, db_name=f"bench_{uuid.uuid4().hex[:6]}", secret_key=scratch_secret(env))
    print(machine())
    stack = runtime.start(settings, progress=lambda *_: None, supervise=False)
    web = None
    try:
        s = stack.settings
        server = stack.server()
        entries = server.admin(s.db_name).get("acl")["entries"]
        access, db = people.as_system(server, s.secret_key, s.db_name, entries, s.namespace)
        customer = "BENCH"
        CustomerService(db, access).upsert(customer, {"name": "Bench Ltd", "tier": "gold", "credit_limit": "100000000.00"})
        port = free_port()
        web = serve(s, port)
        url = f"http://127.0.0.1:{port}"
        race(url, (access, db), customer, 4, 10, 1)  # warm-up: sign-in caches, view indexes

        # On a cluster the raw writes ask every copy (w=n), as the app's claims and orders do.
        quorums = raw_quorums(s)
        raw_params = quorums[like_for_like(quorums)]
        raw_t, hot_t, race_t = [], [], []
        for r in range(args.rounds):
            raw_t.append(raw_writes(server, s.db_name, args.clients, args.raw, raw_params))
            secs, retries = hot_claims(StockService(db, access), args.clients, args.units)
            hot_t.append(secs)
            secs, check = race(url, (access, db), customer, args.clients, args.units, args.each)
            race_t.append(secs)
            print(f"round {r + 1}: raw {args.raw / raw_t[-1]:.0f} writes/s; hot doc {args.clients / hot_t[-1]:.0f} "
                  f"claims/s ({retries} conflicts); race {args.clients / secs:.1f} orders/s in {secs:.2f}s; {check}")
            if check["server errors"] or not check["adds up"]:
                raise SystemExit("the race did not add up: see above")
        raw_rate = args.raw / statistics.median(raw_t)
        hot_rate = args.clients / statistics.median(hot_t)
        order_rate = args.clients / statistics.median(race_t)
        print(f"\nmedian of {args.rounds} rounds, {args.clients} concurrent clients, {args.units} units, {args.each} each:")
        print(f"  raw single-document writes   {raw_rate:8.0f} /s"
              + (f"   (asking every copy: w={raw_params['w']})" if raw_params else ""))
        print(f"  claims on one hot document   {hot_rate:8.0f} /s   ({raw_rate / hot_rate:.1f}x the cost of a raw write)")
        print(f"  orders placed and allocated  {order_rate:8.1f} /s   ({raw_rate / order_rate:.1f}x the cost of a raw write;"
              f" the race took {statistics.median(race_t):.2f} s)")
        print(json.dumps({"bench": "reservation", "raw_writes_per_s": round(raw_rate, 1),
                          "ratio_hot_claims_vs_raw_writes": round(hot_rate / raw_rate, 3),
                          "ratio_race_orders_vs_raw_writes": round(order_rate / raw_rate, 3)}))
    finally:
        if web is not None:
            web.terminate()
            web.wait(15)
        if stack.couch is None:
            drop_databases(stack.server(), [stack.settings.db_name])
        stack.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
