"""What a stock receipt costs when lines wait for its SKU (oms/fulfilment/handoffs.py
allocate_backorders): wall milliseconds and HTTP requests to the database per receipt, for
receipts that each serve WAITING backordered lines (one order each, placed as submitted while the
SKU had no stock). Not part of `make bench` (no ratio): a profiling aid whose figures are in
bench/README.md. Run: .venv/bin/python -m bench.profile_receipt_cost [--waiting N] [--receipts N]"""
from __future__ import annotations

import argparse
import statistics
import time

from oms.fulfilment import handoffs
from oms.fulfilment.handoffs import SystemIdentity
from oms.fulfilment.service import FulfilmentService
from oms.identity import acl, people
from oms.store.numbers import NumberAllocator
from oms.wms.stock import StockService

from .common import fresh_stack, products

CUSTOMERS = tuple(f"R{i:04d}" for i in range(1, 11))


def main(waiting: int, receipts: int) -> None:
    with fresh_stack() as stack:
        s, server = stack.settings, stack.server()
        admin = server.admin(s.db_name)
        admin.bulk([{"_id": f"customer:{c}", "type": "customer", "name": f"Customer {c}", "currency": "EUR",
                     "tier": "gold", "credit_limit_cents": 10**10, "open_balance_cents": 0} for c in CUSTOMERS])
        skus = [f"RCV-{k:03d}" for k in range(receipts + 1)]
        admin.bulk(products(skus))
        admin.bulk([{"_id": f"stock:{sku}:MAIN", "type": "stock", "sku": sku, "warehouse": "MAIN",
                     "on_hand": 0, "reserved": 0, "holds": {}} for sku in skus])
        entries = admin.get("acl")["entries"]
        who = {}
        for name, groups in (("sally", ["sales"]), ("wanda", ["warehouse"])):
            access = acl.resolve(entries, name, groups)
            people.mirror(server, s.secret_key, access, namespace=s.namespace)
            who[name] = access, people.open_as(server, s.secret_key, s.db_name, name, s.namespace)
        system, system_db = people.as_system(server, s.secret_key, s.db_name, entries, s.namespace)
        numbers = NumberAllocator()
        agent = SystemIdentity(system, system_db, numbers)
        sally = FulfilmentService(who["sally"][1], who["sally"][0], numbers, lambda: agent)
        wanda = StockService(who["wanda"][1], who["wanda"][0])
        requests_made = []
        server.session.hooks["response"].append(lambda r, *a, **k: requests_made.append(1))

        def one(sku: str) -> tuple[float, int]:
            for i in range(waiting):
                order = sally.create({"customer": CUSTOMERS[i % len(CUSTOMERS)], "status": "submitted",
                                      "lines": [{"sku": sku, "qty": 2, "unit_price": "4.50"}]})
                assert order.get("backorders"), order
            requests_made.clear()
            t0 = time.perf_counter()
            _, served = handoffs.receive(wanda, agent, sku, "MAIN", 2 * waiting)
            ms = (time.perf_counter() - t0) * 1000
            assert len(served) == waiting and all(x["qty"] == 2 for x in served), served
            return ms, len(requests_made)

        one(skus[0])   # the server and this process warm up (indexes, sign-ins, connections)
        figures = [one(sku) for sku in skus[1:]]
        walls = [ms for ms, _ in figures]
        print(f"{receipts} receipts, each serving {waiting} waiting lines: median {statistics.median(walls):.1f} ms "
              f"per receipt ({statistics.median(walls) / waiting:.1f} ms per line), max {max(walls):.1f} ms; "
              f"{statistics.median([n for _, n in figures]):.0f} requests to the database per receipt")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=21)
    parser.add_argument("--receipts", type=int, default=10)
    args = parser.parse_args()
    main(args.waiting, args.receipts)
