"""Bulk import of orders through the API (POST /api/v1/imports, a JSON file: parse, check every
record, claim each external reference once, write in batches) against raw `_bulk_docs` of the
same order documents in batches of the same size, as the same person (the same
validate_doc_update), on the same server, in the same run."""
from __future__ import annotations

import copy
import json
import time

import requests

from oms import people
from oms.importing import BATCH

from .common import Report, app_server, fresh_stack, size


def run(report: Report) -> None:
    n = size(5_000, 60)
    with fresh_stack() as stack:
        s = stack.settings
        admin = stack.server().admin(s.db_name)
        admin.bulk([{"_id": f"customer:C{i:04d}", "type": "customer", "name": f"Customer {i}", "currency": "EUR"}
                    for i in range(1, 51)])
        records = [{"external_ref": f"EXT-{i:07d}", "customer": f"C{1 + i % 50:04d}", "status": "draft",
                    "lines": [{"sku": f"SKU-{i % 300:03d}", "qty": 1 + i % 5, "unit_price": "12.50"},
                              {"sku": f"SKU-{(i * 7) % 300:03d}", "qty": 2, "unit_price": "3.99"}]}
                   for i in range(n)]
        body = json.dumps({"orders": records}).encode()
        with app_server(s) as url:
            warm = requests.post(url + "/api/v1/imports?kind=orders", auth=("sally", "demo"),
                                 json={"orders": [dict(records[0], external_ref="WARM-UP")]}, timeout=60)
            assert warm.status_code == 200 and warm.json()["created"], warm.text
            t0 = time.perf_counter()
            r = requests.post(url + "/api/v1/imports?kind=orders", auth=("sally", "demo"), data=body,
                              headers={"Content-Type": "application/json"}, timeout=3600)
            app_s = time.perf_counter() - t0
            out = r.json()
            assert r.status_code == 200 and out["counts"]["created"] == n and not out["problems"], r.text[:500]
        # raw: the very documents the import wrote, under fresh ids, _bulk_docs in the same batches
        template = admin.get(out["created"][0]["id"])
        auth = ("sally", people.couch_password(s.secret_key, "sally"))
        bulk_url = f"{s.couchdb_url}/{s.db_name}/_bulk_docs"
        docs = []
        for i in range(n):
            doc = copy.deepcopy(template)
            doc.pop("_rev")
            number = f"SO-8{i:05d}"
            doc.update(_id=f"order:{number}", number=number, external_ref=f"RAW-{i:07d}")
            docs.append(doc)
        session = requests.Session()
        t0 = time.perf_counter()
        for start in range(0, n, BATCH):
            res = session.post(bulk_url, json={"docs": docs[start:start + BATCH]}, auth=auth, timeout=600)
            assert res.status_code == 201 and not any("error" in x for x in res.json()), res.text[:500]
        raw_s = time.perf_counter() - t0
    app_rate, raw_rate = n / app_s, n / raw_s
    report.line("import_vs_raw_bulk_docs", app_rate, raw_rate, "orders/s", app_rate / raw_rate, ">= 0.7")
    report.note(f"{n:,} orders from one JSON file in {app_s:.1f} s; raw _bulk_docs of the same documents "
                f"in batches of {BATCH}: {raw_s:.1f} s")


if __name__ == "__main__":
    r = Report()
    run(r)
    r.finish()
