"""Where the server's time goes in one import: CPU milliseconds of the server's processes
(PouchDB Server, or every node of a COUCHDB_URL cluster on this machine) and wall milliseconds per
kind of request the import makes (read from /proc around each request), for 5,000 orders from
one JSON file on a warmed-up server. The import's stages run one after the other here (no
threads), so each request's server time is its own. Not part of `make bench` (no ratio): a
profiling aid whose figures are in bench/README.md.
Run: .venv/bin/python -m bench.profile_import_cost [--orders N]"""
from __future__ import annotations

import argparse
import json
import time
import uuid

from oms.interchange import pipeline

from .common import fresh_stack, products
from .profile_server_cost import RequestCost, server_cpu_ms, server_pids


def main(n: int, random_refs: bool = False) -> None:
    cost = RequestCost()
    pipeline._stages = pipeline.serial_stages   # request by request, in order

    with fresh_stack() as stack:
        s = stack.settings
        admin = stack.server().admin(s.db_name)
        admin.bulk(products(f"SKU-{i:03d}" for i in range(300)))
        admin.bulk([{"_id": f"customer:C{i:04d}", "type": "customer", "name": f"Customer {i}", "currency": "EUR"}
                    for i in range(1, 51)])
        from webapp import create_app
        client = create_app(settings=s).test_client()

        def records(prefix: str) -> list[dict]:
            return [{"external_ref": f"{prefix}-{i:07d}", "customer": f"C{1 + i % 50:04d}", "status": "draft",
                     "lines": [{"sku": f"SKU-{i % 300:03d}", "qty": 1 + i % 5, "unit_price": "12.50"},
                               {"sku": f"SKU-{(i * 7) % 300:03d}", "qty": 2, "unit_price": "3.99"}]} for i in range(n)]

        def import_(recs: list[dict]) -> dict:
            r = client.post("/api/v1/imports?kind=orders", data=json.dumps({"orders": recs}),
                            headers={"Content-Type": "application/json"}, auth=("sally", "demo"))
            assert r.status_code == 200, r.data[:300]
            return r.get_json()

        import_(records("WARM"))   # the server (and this process) warm up
        cost.pids = server_pids(stack)
        runs = [("import", records("EXT")), ("the same file again", None)]
        if random_refs:   # one claim document per order (bench_import's random-reference row)
            runs.append(("random references", [dict(r, external_ref=uuid.uuid4().hex) for r in records("RND")]))
        for label, recs in runs:
            cost.kinds.clear()
            before, t0 = server_cpu_ms(cost.pids), time.perf_counter()
            out = import_(recs or records("EXT"))
            print(f"{label}: {time.perf_counter() - t0:.2f} s, server CPU {(server_cpu_ms(cost.pids) - before) / 1000:.2f} s, "
                  f"{out['counts']}")
            cost.report(unit=" in all")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--random", action="store_true", help="also an import of random references")
    args = parser.parse_args()
    main(args.orders, args.random)
