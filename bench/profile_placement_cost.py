"""Where the server's time goes in placement passes (oms/fulfilment/placement.py): CPU milliseconds of the
server's processes (PouchDB Server, or every node of a COUCHDB_URL cluster on this machine) and
wall milliseconds per kind of request, for passes of 8 orders placed as submitted (the
bench_intake orders: 100 SKUs in two warehouses, 50 customers). A pass's three independent
requests run one after the other here, so each request's server time is its own. Not part of
`make bench` (no ratio): a profiling aid whose figures are in bench/README.md.
Run: .venv/bin/python -m bench.profile_placement_cost [--passes N]"""
from __future__ import annotations

import argparse
import time
from concurrent.futures import Future

from oms.fulfilment import placement
from oms.fulfilment.handoffs import SystemIdentity
from oms.fulfilment.service import FulfilmentService
from oms.identity import acl, people
from oms.store.numbers import NumberAllocator

from .bench_intake import CUSTOMERS, SKUS
from .common import fresh_stack, products
from .profile_server_cost import RequestCost, server_cpu_ms, server_pids

PER_PASS = 8


class _Inline:
    """Stands in for the pass's thread pool: each request runs when submitted, alone."""
    def submit(self, fn, *args) -> Future:
        done: Future = Future()
        done.set_result(fn(*args))
        return done


def main(passes: int, per_pass: int = PER_PASS) -> None:
    cost = RequestCost()
    placement._pool = _Inline
    with fresh_stack() as stack:
        s, server = stack.settings, stack.server()
        admin = server.admin(s.db_name)
        admin.bulk([{"_id": f"customer:{c}", "type": "customer", "name": f"Customer {c}", "currency": "EUR",
                     "tier": "gold", "credit_limit_cents": 10**10, "open_balance_cents": 0} for c in CUSTOMERS])
        admin.bulk([{"_id": f"stock:{sku}:{wh}", "type": "stock", "sku": sku, "warehouse": wh,
                     "on_hand": 10**6, "reserved": 0, "holds": {}} for sku in SKUS for wh in ("MAIN", "EAST")])
        admin.bulk(products(SKUS))
        entries = admin.get("acl")["entries"]
        access = acl.resolve(entries, "sally", ["sales"])
        people.mirror(server, s.secret_key, access, namespace=s.namespace)
        db = people.open_as(server, s.secret_key, s.db_name, "sally", s.namespace)
        system, system_db = people.as_system(server, s.secret_key, s.db_name, entries, s.namespace)
        numbers = NumberAllocator()
        agent = SystemIdentity(system, system_db, numbers)
        sally = FulfilmentService(db, access, numbers, lambda: agent)

        def one_pass(k: int) -> None:
            placed = []
            for i in range(k * per_pass, (k + 1) * per_pass):
                data = {"customer": CUSTOMERS[i % len(CUSTOMERS)], "status": "submitted",
                        "lines": [{"sku": SKUS[i % len(SKUS)], "qty": 3, "unit_price": "4.50"},
                                  {"sku": SKUS[(i * 7 + 1) % len(SKUS)], "qty": 1, "unit_price": "39.90"}]}
                placed.append((sally.build(data, customer=sally.customer(data["customer"])), db))
            out = placement._Pass(agent, placed).run()
            assert all(order["status"] == "allocated" for order, _ in out), out

        for k in range(5):   # the server and this process warm up
            one_pass(k)
        cost.pids = server_pids(stack)
        before, t0 = server_cpu_ms(cost.pids), time.perf_counter()
        for k in range(5, 5 + passes):
            one_pass(k)
        orders = passes * per_pass
        wall = (time.perf_counter() - t0) * 1000 / orders
        print(f"{passes} passes of {per_pass} orders: server CPU {(server_cpu_ms(cost.pids) - before) / orders:.2f} ms "
              f"per order (requests and what they leave the server to do), wall {wall:.2f} ms per order")
        cost.report(per=orders, unit=" per order")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=40)
    parser.add_argument("--per-pass", type=int, default=PER_PASS,
                        help="orders per pass (4: what each of two app processes gets from 8 clients)")
    args = parser.parse_args()
    main(args.passes, args.per_pass)
