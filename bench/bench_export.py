"""Peak memory of exporting many orders (target: at most 200 MB, flat as the export grows).

    .venv/bin/python bench/bench_export.py [--orders 100000] [--exports csv/rows,json/orders,xml/orders]

Seeds N orders with _bulk_docs into a fresh database (the embedded PouchDB Server unless
COUCHDB_URL is set), then exports 1/4, 1/2 and all of them in a child process each, sampling
the child's resident memory (VmRSS) as it streams to /dev/null. Prints one line per size and, last,
one JSON object. Not a test: no assertion, the figures go to bench/README.md."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, resource, sys, time
from oms.identity import people
from oms.core.config import Settings
from oms.store.couch import CouchServer
from oms.interchange.exporting import export
from views import catalog
s = Settings.from_env()
server = CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password)
entries = server.admin(s.db_name).get("acl")["entries"]
access, db = people.as_system(server, s.secret_key, s.db_name, entries, s.namespace)
limit, fmt, shape = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
start_rss, t0, n, rows, samples = rss(), time.perf_counter(), 0, 0, []
stream = export(db, access, catalog.get("all_orders"), fmt, shape)
with open("/dev/null", "w") as out:
    for chunk in stream.chunks:
        out.write(chunk)
        n += len(chunk)
        rows += 1
        if rows % 5000 == 0:
            samples.append(round(rss(), 1))
        if rows >= limit:
            break
print(json.dumps({"rows": rows, "bytes": n, "seconds": round(time.perf_counter() - t0, 2),
                  "rss_start_mb": round(start_rss, 1), "rss_samples_mb": samples,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""


def seed(admin, n: int, progress) -> None:
    customers = [{"_id": f"customer:B{i:04d}", "type": "customer", "name": f"Bench Customer {i}", "currency": "EUR"}
                 for i in range(50)]
    admin.bulk(customers)
    batch = []
    for i in range(1, n + 1):
        number = f"SO-{i:06d}"
        qty = 1 + i % 7
        lines = [{"line": 1, "sku": "WID-100", "qty": qty, "unit_price_cents": 450, "amount_cents": qty * 450,
                  "description": "Widget, small"}]
        batch.append({"_id": f"order:{number}", "type": "order", "number": number,
                      "customer": {"id": f"customer:B{i % 50:04d}", "name": f"Bench Customer {i % 50}"},
                      "lines": lines, "totals": {"net_cents": qty * 450, "qty": qty}, "currency": "EUR",
                      "status": "submitted", "priority": 1 + i % 5, "version": 1, "created_by": "bench",
                      "created_at": "2026-01-01T00:00:00Z", "updated_by": "bench", "updated_at": "2026-01-01T00:00:00Z",
                      "authors": ["bench"], "history": [{"at": "2026-01-01T00:00:00Z", "by": "bench", "action": "create",
                                                         "from": None, "to": "submitted"}]})
        if len(batch) == 2000:
            admin.bulk(batch)
            batch = []
            progress(f"  seeded {i:,}")
    if batch:
        admin.bulk(batch)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--exports", default="csv/rows,json/orders",
                    help="format/shape pairs to measure, e.g. csv/rows,xml/orders")
    args = ap.parse_args()
    pairs = [tuple(p.split("/")) for p in args.exports.split(",")]
    from oms.core.config import Settings, scratch_secret
    from oms.devstack import runtime
    data = Path(tempfile.mkdtemp(prefix="bench-export-"))
    from bench.common import drop_databases, wait_for_index
    env = Settings.from_env()
    settings = env.with_(data_dir=data, db_name=f"bench_export_{uuid.uuid4().hex[:6]}", secret_key=scratch_secret(env))
    stack = runtime.start(settings, progress=lambda *_: None, supervise=False)
    try:
        s = stack.settings
        admin = stack.server().admin(s.db_name)
        t0 = time.perf_counter()
        seed(admin, args.orders, lambda m: print(m, file=sys.stderr))
        seeded = time.perf_counter() - t0
        from oms.store.couch import CouchServer  # a long timeout: PouchDB Server builds 100k rows in ~45 s
        indexed = wait_for_index(CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password, timeout=1800),
                                 s.db_name, "oms", "orders_by_number", progress=lambda m: print(m, file=sys.stderr))
        print(f"seeded {args.orders:,} orders in {seeded:.1f} s, index built in {indexed:.1f} s", file=sys.stderr)
        summary = {"bench": "export", "orders": args.orders, "exports": {}}
        for fmt, shape in pairs:
            results = []
            for size in sorted({max(1, args.orders // 4), max(1, args.orders // 2), args.orders}):
                out = subprocess.run([sys.executable, "-c", CHILD, str(size), fmt, shape], cwd=ROOT,
                                     env={**os.environ, **s.to_env()}, capture_output=True, text=True, check=True)
                r = json.loads(out.stdout)
                results.append(r)
                print(f"export {fmt}/{shape} of {r['rows']:>7,} chunks: {r['bytes'] / 1e6:7.1f} MB in "
                      f"{r['seconds']:6.1f} s, peak RSS {r['peak_rss_mb']:6.1f} MB (samples {r['rss_samples_mb'][:3]}"
                      f"...{r['rss_samples_mb'][-2:]})")
            summary["exports"][f"{fmt}/{shape}"] = {
                "peak_rss_mb": results[-1]["peak_rss_mb"],
                "peak_rss_growth_mb": round(results[-1]["peak_rss_mb"] - results[0]["peak_rss_mb"], 1),
                "seconds": results[-1]["seconds"], "mb": round(results[-1]["bytes"] / 1e6, 1)}
        print(json.dumps(summary))
    finally:
        if stack.couch is None:
            drop_databases(stack.server(), [stack.settings.db_name])
        stack.close()


if __name__ == "__main__":
    main()
