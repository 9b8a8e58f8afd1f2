"""Where the server's time goes: CPU milliseconds of the server's processes per operation (read
from /proc, so less sensitive to other load than wall time), for the requests an order makes and
their raw equivalents: the embedded PouchDB Server, or a COUCHDB_URL on this machine (every node
of a cluster: the processes listening on COUCHDB_URL's port and on OMS_COUCHDB_NODES', all
summed, since a clustered request runs on the node asked and on the nodes holding the copies).
Not part of `make bench` (no ratio): a profiling aid whose figures are in bench/README.md.
Run: .venv/bin/python -m bench.profile_server_cost"""
from __future__ import annotations

import collections
import copy
import itertools
import threading
import time

import requests

from oms.identity import people
from oms.store import couch

from .common import fresh_stack, like_for_like, products, raw_quorums, server_cpu_ms, server_pids

__all__ = ["RequestCost", "server_cpu_ms", "server_pids"]


class RequestCost:
    """The server CPU and the wall time of each kind of request this process makes
    (couch.Database calls, read from /proc around each one; kinds like "_bulk_docs of order",
    "settle read of stock"). Meaningful when requests go one at a time. No `pids` (a warm-up):
    nothing is counted."""
    CALLS = ("_bulk_raw", "all_docs", "view", "get", "get_or_none", "_put", "leaves", "leaves_of")

    def __init__(self):
        self.pids: list[int] = []
        self.kinds: dict[str, list] = collections.defaultdict(lambda: [0, 0.0, 0.0])
        self._local = threading.local()
        for name in self.CALLS:
            self._wrap(name)

    def _wrap(self, name: str) -> None:
        original, cost = getattr(couch.Database, name), self

        def call(db, *args, **kwargs):
            # a call made inside another one counted here (get_or_none's get) is the outer one's
            if not cost.pids or getattr(cost._local, "inside", False):
                return original(db, *args, **kwargs)
            cost._local.inside = True
            before, t0 = server_cpu_ms(cost.pids), time.perf_counter()
            try:
                return original(db, *args, **kwargs)
            finally:
                cost._local.inside = False
                kind = name
                if name == "_bulk_raw" and args and args[0]:
                    kind = f"_bulk_docs of {args[0][0]['_id'].split(':')[0]}"
                elif name == "view":
                    kind = f"view {args[1]}"
                elif name == "leaves":
                    kind = f"settle read of {args[0].split(':')[0]}"
                elif name == "leaves_of":
                    kind = "settle read of a write's documents (_bulk_get)"
                entry = cost.kinds[kind]
                entry[0] += 1
                entry[1] += server_cpu_ms(cost.pids) - before
                entry[2] += (time.perf_counter() - t0) * 1000
        setattr(couch.Database, name, call)

    def report(self, per: int = 1, unit: str = "") -> None:
        """Print each kind, costliest first; `per`: divide the totals by this many (orders)."""
        count_all = sum(k[0] for k in self.kinds.values())
        print(f"  {'':36} {count_all / per:5.2f} requests{unit}, server CPU "
              f"{sum(k[1] for k in self.kinds.values()) / per:.2f} ms{unit}, wall "
              f"{sum(k[2] for k in self.kinds.values()) / per:.2f} ms{unit} (one request at a time)")
        for kind, (count, ms, wall) in sorted(self.kinds.items(), key=lambda kv: -kv[1][2]):
            print(f"  {kind:36} {count:5} requests: server CPU {ms / count:6.2f} ms each, {ms / per:7.2f} ms{unit}; "
                  f"wall {wall / count:6.2f} ms each, {wall / per:7.2f} ms{unit}")


def main(n: int = 100) -> None:
    with fresh_stack() as stack:
        s, pids = stack.settings, server_pids(stack)
        admin = stack.server().admin(s.db_name)
        admin.bulk([{"_id": f"customer:C{i:04d}", "type": "customer", "name": f"Customer {i}", "currency": "EUR",
                     "credit_limit_cents": 10**10} for i in range(1, 51)])
        admin.bulk([{"_id": f"stock:SKU-{i:03d}:{wh}", "type": "stock", "sku": f"SKU-{i:03d}", "warehouse": wh,
                     "on_hand": 10**6, "reserved": 0, "holds": {}} for i in range(100) for wh in ("MAIN", "EAST")])
        admin.bulk(products(f"SKU-{i:03d}" for i in range(100)))
        from webapp import create_app
        client = create_app(settings=s).test_client()
        sally = ("sally", "demo")
        quorums = raw_quorums(s)
        print(f"server processes {pids}; raw writes: " + ", ".join(f"{q} {p or 'default'}" for q, p in quorums.items()))

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

        def measure(name, fn, count=n, per=1):
            before, t0 = server_cpu_ms(pids), time.perf_counter()
            for i in range(count):
                fn(i)
            wall = (time.perf_counter() - t0) * 1000 / (count * per)
            print(f"{name:52} {(server_cpu_ms(pids) - before) / (count * per):6.2f} ms server CPU, "
                  f"{wall:6.2f} ms wall", flush=True)

        def ok(r):
            assert r.status_code < 300, r.text
            return r

        credit = base + "_design/credit/_view/credit_exposure_by_customer"
        measure("API: an order placed as submitted, alone", lambda i: api(i + 10))

        def eight_at_once(i):   # a placement pass settles the orders submitted together
            threads = [threading.Thread(target=api, args=(1000 + 8 * i + k,)) for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        measure("API: placed as submitted, 8 at once (per order)", eight_at_once, n // 8, 8)
        measure("API: a draft order", lambda i: api(i + 10, "draft"))
        for q, params in quorums.items():
            measure(f"{q}: PUT one order (as sally, validated)",
                    lambda i: ok(raw.put(base + (d := fresh_order())["_id"], json=d, params=params, auth=auth)))
            measure(f"{q}: _bulk_docs of 8 orders (per request)",
                    lambda i: ok(raw.post(base + "_bulk_docs", json={"docs": [fresh_order() for _ in range(8)]},
                                          params=params, auth=auth)), n // 4)
        measure("raw: GET /_session (auth only)", lambda i: ok(raw.get(f"{s.couchdb_url}/_session", auth=auth)))
        measure("raw: GET one document", lambda i: ok(raw.get(base + "customer:C0001", auth=auth)))
        if len(quorums) > 1:
            copies = like_for_like(quorums)[5:]
            measure(f"raw: GET one document's leaves (open_revs=all, r={copies})",
                    lambda i: ok(raw.get(base + f"stock:SKU-{i % 100:03d}:MAIN", auth=auth, headers={"Accept": "application/json"},
                                         params={"open_revs": "all", "revs": "true", "r": copies})))
            measure(f"raw: _bulk_get of 16 documents' leaves (r={copies}), per document",
                    lambda i: ok(raw.post(base + "_bulk_get", auth=auth, headers={"Accept": "application/json"},
                                          params={"revs": "true", "r": copies},
                                          json={"docs": [{"id": f"stock:SKU-{(i + k) % 100:03d}:{wh}"}
                                                         for k in range(8) for wh in ("MAIN", "EAST")]})), per=16)
        measure("raw: _all_docs of 18 keys with docs (a pass's read)", lambda i: ok(raw.post(base + "_all_docs", json={
            "keys": [f"customer:C{1 + (i + k) % 50:04d}" for k in range(4)]
            + [f"stock:SKU-{(i + k) % 100:03d}:{wh}" for k in range(7) for wh in ("MAIN", "EAST")],
            "include_docs": True}, auth=auth)))
        measure("raw: _all_docs of 2 keys with docs (an availability check's read)", lambda i: ok(raw.post(
            base + "_all_docs", json={"keys": [f"stock:SKU-{i % 100:03d}:{wh}" for wh in ("MAIN", "EAST")],
                                      "include_docs": True}, auth=auth)))
        measure("raw: GET one stock document", lambda i: ok(raw.get(base + f"stock:SKU-{i % 100:03d}:MAIN", auth=auth)))
        stock_view = base + "_design/oms/_view/stock_by_sku"
        measure("raw: the stock view, one SKU (bench_availability's raw side)", lambda i: ok(raw.post(stock_view, json={
            "start_key": [f"SKU-{i % 100:03d}"], "end_key": [f"SKU-{i % 100:03d}", {}]}, auth=auth)))
        measure("raw: _all_docs key range with docs", lambda i: ok(raw.post(base + "_all_docs", json={
            "start_key": "stock:SKU-001:", "end_key": "stock:SKU-001:\ufff0", "include_docs": True}, auth=auth)))
        measure("raw: credit view, 4 customers by key (no change)", lambda i: ok(raw.post(credit, json={
            "keys": [[f"customer:C000{c}", "EUR"] for c in range(1, 5)], "group": True}, auth=auth)))

        params = quorums[like_for_like(quorums)]

        def write_then_view(i):
            ok(raw.put(base + (d := fresh_order())["_id"], json=d, params=params, auth=auth))
            ok(raw.post(credit, json={"keys": [["customer:C0001", "EUR"]], "group": True}, auth=auth))
        measure("raw: PUT, then the credit view (index update)", write_then_view)


if __name__ == "__main__":
    main()
