"""Where the embedded server's time goes: CPU milliseconds of the PouchDB Server process per
operation (read from /proc, so less sensitive to other load than wall time), for the requests an
order makes and their raw equivalents. Not part of `make bench` (no ratio): a profiling aid whose
figures are in bench/README.md. Run: .venv/bin/python -m bench.profile_server_cost"""
from __future__ import annotations

import collections
import copy
import itertools
import os
import threading

import requests

from oms import couch, people

from .common import fresh_stack


def server_cpu_ms(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


class RequestCost:
    """The server CPU of each kind of request this process makes (couch.Database calls, read from
    /proc around each one; kinds like "_bulk_docs of order"). Meaningful when requests go one at a
    time. `pid` 0 counts nothing (a warm-up)."""
    CALLS = ("_bulk_raw", "all_docs", "view", "get", "get_or_none", "_put")

    def __init__(self):
        self.pid = 0
        self.kinds: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
        for name in self.CALLS:
            self._wrap(name)

    def _wrap(self, name: str) -> None:
        original, cost = getattr(couch.Database, name), self

        def call(db, *args, **kwargs):
            if not cost.pid:
                return original(db, *args, **kwargs)
            before = server_cpu_ms(cost.pid)
            try:
                return original(db, *args, **kwargs)
            finally:
                kind = name
                if name == "_bulk_raw" and args and args[0]:
                    kind = f"_bulk_docs of {args[0][0]['_id'].split(':')[0]}"
                elif name == "view":
                    kind = f"view {args[1]}"
                cost.kinds[kind][0] += 1
                cost.kinds[kind][1] += server_cpu_ms(cost.pid) - before
        setattr(couch.Database, name, call)

    def report(self, per: int = 1, unit: str = "") -> None:
        """Print each kind, costliest first; `per`: divide the total by this many (orders)."""
        for kind, (count, ms) in sorted(self.kinds.items(), key=lambda kv: -kv[1][1]):
            print(f"  {kind:36} {count:5} requests {ms / count:6.2f} ms each, {ms / per:7.2f} ms{unit}")


def main(n: int = 100) -> None:
    with fresh_stack() as stack:
        s, pid = stack.settings, stack.couch.proc.pid
        admin = stack.server().admin(s.db_name)
        admin.bulk([{"_id": f"customer:C{i:04d}", "type": "customer", "name": f"Customer {i}", "currency": "EUR",
                     "credit_limit_cents": 10**10} for i in range(1, 51)])
        admin.bulk([{"_id": f"stock:SKU-{i:03d}:{wh}", "type": "stock", "sku": f"SKU-{i:03d}", "warehouse": wh,
                     "on_hand": 10**6, "reserved": 0, "holds": {}} for i in range(100) for wh in ("MAIN", "EAST")])
        from webapp import create_app
        client = create_app(settings=s).test_client()
        sally = ("sally", "demo")

        def body(i, status="submitted"):
            return {"customer": f"C{1 + i % 50:04d}", "status": status,
                    "lines": [{"sku": f"SKU-{i % 100:03d}", "qty": 3, "unit_price": "4.50"},
                              {"sku": f"SKU-{(i * 7 + 1) % 100:03d}", "qty": 1, "unit_price": "39.90"}]}

        def api(i, status="submitted"):
            r = client.post("/api/v1/orders", json=body(i, status), auth=sally)
            assert r.status_code == 201, r.data
            return r.get_json()

        for i in range(5):
            api(i)
        draft = {k: v for k, v in api(9, "draft").items() if k not in ("availability", "_rev")}
        auth = ("sally", people.couch_password(s.secret_key, "sally"))
        base = f"{s.couchdb_url}/{s.db_name}/"
        raw = requests.Session()
        numbers = itertools.count(500_000)

        def fresh_order():
            doc, number = copy.deepcopy(draft), f"SO-{next(numbers):06d}"
            doc.update(_id=f"order:{number}", number=number)
            return doc

        def measure(name, fn, count=n):
            before = server_cpu_ms(pid)
            for i in range(count):
                fn(i)
            print(f"{name:46} {(server_cpu_ms(pid) - before) / count:6.2f} ms server CPU", flush=True)

        credit = base + "_design/oms/_view/credit_exposure_by_customer"
        measure("API: an order placed as submitted, alone", lambda i: api(i + 10))

        def eight_at_once(i):   # a placement pass settles the orders submitted together
            threads = [threading.Thread(target=api, args=(1000 + 8 * i + k,)) for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        before = server_cpu_ms(pid)
        for i in range(n // 8):
            eight_at_once(i)
        print(f"{'API: placed as submitted, 8 at once (per order)':46} "
              f"{(server_cpu_ms(pid) - before) / (8 * (n // 8)):6.2f} ms server CPU", flush=True)
        measure("API: a draft order", lambda i: api(i + 10, "draft"))
        measure("raw: PUT one order (as sally, validated)", lambda i: raw.put(base + (d := fresh_order())["_id"], json=d, auth=auth))
        measure("raw: _bulk_docs of 8 orders (per request)",
                lambda i: raw.post(base + "_bulk_docs", json={"docs": [fresh_order() for _ in range(8)]}, auth=auth), n // 4)
        measure("raw: GET /_session (auth only)", lambda i: raw.get(f"{s.couchdb_url}/_session", auth=auth))
        measure("raw: GET one document", lambda i: raw.get(base + "customer:C0001", auth=auth))
        measure("raw: _all_docs key range with docs", lambda i: raw.post(base + "_all_docs", json={
            "start_key": "stock:SKU-001:", "end_key": "stock:SKU-001:\ufff0", "include_docs": True}, auth=auth))
        measure("raw: credit view, 4 customers by key (no change)", lambda i: raw.post(credit, json={
            "keys": [f"customer:C000{c}" for c in range(1, 5)], "group": True}, auth=auth))

        def write_then_view(i):
            raw.put(base + (d := fresh_order())["_id"], json=d, auth=auth)
            raw.post(credit, json={"keys": ["customer:C0001"], "group": True}, auth=auth)
        measure("raw: PUT, then the credit view (index update)", write_then_view)


if __name__ == "__main__":
    main()
