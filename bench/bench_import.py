"""Bulk import of orders through the API (POST /api/v1/imports, a JSON file: parse, check every
record, claim each external reference once, write in batches) against raw `_bulk_docs` of the
same order documents in batches of the same size, as the same person (the same
validate_doc_update), on the same server, in the same run.

Both sides are timed on a warmed-up server: a freshly started PouchDB Server spends ~0.5 s more
CPU on its first few thousand validated writes (measured: the same raw pass costs 1.4-1.8 s of
server CPU first and 1.0-1.1 s after), and the raw side, timed second, used to get that warm
server from the app for free. So an untimed raw pass of the same size goes first.

References are sequential here (EXT-0000000...), as an ERP's or a shop's export is; claims of
references that differ only in their last two digits share a document (oms/interchange/refclaims.py). The
same import with random references (UUIDs: one claim document per order) is timed last, as
context for the same raw figure."""
from __future__ import annotations

import copy
import json
import time
import uuid

import requests

from oms.identity import people
from oms.interchange.pipeline import BATCH

from .common import Report, app_server, fresh_stack, like_for_like, products, raw_quorums, settle, size

ROUNDS = size(2, 1)


def run(report: Report) -> None:
    n = size(5_000, 60)
    with fresh_stack() as stack:
        s = stack.settings
        admin = stack.server().admin(s.db_name)
        admin.bulk([{"_id": f"customer:C{i:04d}", "type": "customer", "name": f"Customer {i}", "currency": "EUR"}
                    for i in range(1, 51)])
        admin.bulk(products(f"SKU-{i:03d}" for i in range(300)))
        records = [{"external_ref": f"EXT-{i:07d}", "customer": f"C{1 + i % 50:04d}", "status": "draft",
                    "lines": [{"sku": f"SKU-{i % 300:03d}", "qty": 1 + i % 5, "unit_price": "12.50"},
                              {"sku": f"SKU-{(i * 7) % 300:03d}", "qty": 2, "unit_price": "3.99"}]}
                   for i in range(n)]
        body = json.dumps({"orders": records}).encode()
        auth = ("sally", people.couch_password(s.secret_key, "sally"))
        bulk_url = f"{s.couchdb_url}/{s.db_name}/_bulk_docs"
        quorums = raw_quorums(s)
        session = requests.Session()

        def raw_docs(template: dict, number_prefix: str, ref_prefix: str) -> list[dict]:
            docs = []
            for i in range(n):
                doc = copy.deepcopy(template)
                doc.pop("_rev", None)
                number = f"SO-{number_prefix}{i:05d}"
                doc.update(_id=f"order:{number}", number=number, external_ref=f"{ref_prefix}-{i:07d}")
                docs.append(doc)
            return docs

        def raw_pass(docs: list[dict], params: dict | None = None) -> float:
            t0 = time.perf_counter()
            for start in range(0, n, BATCH):
                res = session.post(bulk_url, json={"docs": docs[start:start + BATCH]}, params=params or {},
                                   auth=auth, timeout=600)
                assert res.status_code in (201, 202) and not any("error" in x for x in res.json()), res.text[:500]
            return time.perf_counter() - t0

        def app_import(url: str, data: bytes) -> tuple[float, dict]:
            t0 = time.perf_counter()
            r = requests.post(url + "/api/v1/imports?kind=orders", auth=("sally", "demo"), data=data,
                              headers={"Content-Type": "application/json"}, timeout=3600)
            elapsed = time.perf_counter() - t0
            out = r.json()
            assert r.status_code == 200 and out["counts"]["created"] == n and not out["problems"], r.text[:500]
            return elapsed, out

        with app_server(s) as url:
            for worker in range(2):   # the app's worker process(es) have each imported once, likely
                warm = requests.post(url + "/api/v1/imports?kind=orders", auth=("sally", "demo"), timeout=60,
                                     json={"orders": [dict(records[0], external_ref=f"WARM-UP-{worker}")]})
                assert warm.status_code == 200 and warm.json()["created"], warm.text
            # not counted: the server warms up (this pass's time is printed, to show what it costs)
            cold_s = raw_pass(raw_docs(admin.get(warm.json()["created"][0]["id"]), "9", "WARM"))
            # The two sides take turns, ROUNDS times (fresh references and ids each time), so that
            # each meets the same machine; raw writes the very documents the import wrote, under
            # fresh ids, _bulk_docs in the same batches.
            # On a cluster the raw side writes both ways a client may (raw_quorums): the server's
            # default quorum, and every copy as the app does.
            # Every timed pass starts once the server has indexed what the pass before it wrote
            # (settle): otherwise each side pays for the other's index builds.
            app_times, raw_times, settled = [], {q: [] for q in quorums}, []
            for r in range(ROUNDS):
                data = body if r == 0 else json.dumps({"orders": [dict(x, external_ref=f"R{r}-{x['external_ref']}")
                                                                   for x in records]}).encode()
                settled.append(settle(stack.server(), s.db_name))
                app_s, out = app_import(url, data)
                app_times.append(app_s)
                written = admin.get(out["created"][0]["id"])
                for k, (q, params) in enumerate(quorums.items()):
                    settled.append(settle(stack.server(), s.db_name))
                    raw_times[q].append(raw_pass(raw_docs(written, f"{8 - r}{k}", f"RAW{r}{k}"), params))
            app_s = sum(app_times) / ROUNDS
            raw_means = {q: sum(ts) / ROUNDS for q, ts in raw_times.items()}
            raw_s = raw_means[like_for_like(quorums)]
            random_refs = json.dumps({"orders": [dict(r, external_ref=str(uuid.uuid4())) for r in records]}).encode()
            settled.append(settle(stack.server(), s.db_name))
            uuid_s, _ = app_import(url, random_refs)
    app_rate, raw_rate = n / app_s, n / raw_s
    report.line("import_vs_raw_bulk_docs", app_rate, raw_rate, "orders/s", app_rate / raw_rate, ">= 0.7")
    report.note(f"{n:,} orders from one JSON file in {app_s:.2f} s; raw _bulk_docs of the same documents "
                f"in batches of {BATCH}: {raw_s:.2f} s; both after a raw pass of {n:,} on the fresh server, "
                f"not counted: {cold_s:.2f} s")
    report.note("before each timed pass, the server indexed what the pass before wrote: "
                + " / ".join(f"{t:.1f}" for t in settled) + " s, not counted")
    report.note(f"{ROUNDS} rounds, taking turns: app " + " / ".join(f"{t:.2f}" for t in app_times) + " s, "
                + ", ".join(f"{q} " + " / ".join(f"{t:.2f}" for t in ts) + " s" for q, ts in raw_times.items()))
    if len(quorums) > 1:
        default_rate = n / raw_means["raw"]
        report.ratios["import_vs_raw_bulk_docs_default_w"] = round(app_rate / default_rate, 3)
        report.note(f"raw _bulk_docs ask every copy ({like_for_like(quorums)[4:]}), as the app's writes do; with the "
                    f"server's default quorum: {default_rate:.1f} docs/s, ratio {app_rate / default_rate:.2f} "
                    "(import_vs_raw_bulk_docs_default_w)")
    report.note(f"the same import with random references (one claim document per order): {uuid_s:.2f} s, "
                f"{(n / uuid_s) / raw_rate:.2f} x raw")


if __name__ == "__main__":
    r = Report()
    run(r)
    r.finish()
