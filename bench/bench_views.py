"""Paging a large view: page 1 against page 2,000 of 100,000 orders, by key, through the app
(the reader merging a person's principal ranges, and the whole web page) and as raw view
queries; `skip` shown for contrast. Ratios are taken within the same run on the same server,
so the machine's speed cancels out.

    .venv/bin/python bench/bench_views.py [--orders 100000] [--repeat 20]

Starts its own PouchDB Server (the embedded default) unless COUCHDB_URL (+ COUCHDB_USER,
COUCHDB_PASSWORD) names a server, e.g. an Apache CouchDB 3. Prints a table; the last line is a
JSON object with every figure (milliseconds, medians)."""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ScratchCouch, median_ms, wait_for_index  # noqa: E402
from couch_design.deploy import deploy  # noqa: E402
from oms.core.config import Settings, scratch_secret  # noqa: E402
from oms.identity import people  # noqa: E402
from oms.identity.acl import Access  # noqa: E402
from oms.store.couch import CouchServer  # noqa: E402
from tests.viewdata import order_doc  # noqa: E402
from views import catalog  # noqa: E402
from views.reader import read  # noqa: E402

PAGE = 50


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-totals", dest="totals", action="store_false",
                    help="skip the category totals figures (they build a second index)")
    args = ap.parse_args(argv)
    n, far_page = args.orders, args.orders // PAGE
    env = Settings.from_env()
    couch = ScratchCouch("bench-views")
    url, user, pw, kind = couch.url, couch.user, couch.password, couch.kind
    server = CouchServer(url, user, pw, timeout=3600)
    name = f"bench_views_{secrets.token_hex(4)}"
    db = server.admin(name)
    out: dict = {"bench": "views_paging", "server": kind, "orders": n, "page_size": PAGE,
                 "far_page": far_page, "machine": f"{platform.machine()} {os.cpu_count()} cores {platform.processor() or ''}".strip()}
    try:
        deploy(db, progress=lambda *_: None, namespace=env.namespace)
        t0 = time.perf_counter()
        batch = 5000
        for start in range(1, n + 1, batch):
            docs = [order_doc(f"SO-{i:06d}", status="submitted", at="2026-11-01T08:00:00Z")
                    for i in range(start, min(n, start + batch - 1) + 1)]
            db.bulk(docs)
            if (start // batch) % 4 == 0 or start + batch > n:
                print(f"  seeded {min(n, start + batch - 1):,}/{n:,}", flush=True)
        out["bulk_docs_per_s"] = round(n / (time.perf_counter() - t0))
        # The index is built before any query is timed, and its build is timed on its own: a
        # cluster answers a query that would wait for the build too long with a timeout (500).
        print(f"\nbuilding the orders_by_number index over {n:,} orders ...", flush=True)
        out["index_build_s"] = round(wait_for_index(server, name, "oms", "orders_by_number"), 1)

        secret = scratch_secret(env)
        who = Access("bench_reader", "reader", ())
        people.mirror(server, secret, who, namespace=env.namespace)
        mine = people.open_as(server, secret, name, who.name, env.namespace)
        src = catalog.get("all_orders").source(who)
        cursor = [f"SO-{(far_page - 1) * PAGE:06d}"]

        def raw(start):
            return db.view("oms", "orders_by_number", start_key=["*", *start], end_key=["*", {}],
                           limit=PAGE + 1, reduce=False)

        assert len(read(mine, src, limit=PAGE).rows) == len(read(mine, src, after=cursor, limit=PAGE).rows) == PAGE
        r = args.repeat
        out["raw_key_page1_ms"] = median_ms(lambda: raw([]), r)
        out["raw_key_far_ms"] = median_ms(lambda: raw(cursor), r)
        out["raw_skip_far_ms"] = median_ms(lambda: db.view("oms", "orders_by_number", start_key=["*"],
                                                            end_key=["*", {}], skip=(far_page - 1) * PAGE,
                                                            limit=PAGE, reduce=False), max(3, r // 5))
        out["app_reader_page1_ms"] = median_ms(lambda: read(mine, src, limit=PAGE), r)
        out["app_reader_far_ms"] = median_ms(lambda: read(mine, src, after=cursor, limit=PAGE), r)

        from webapp import create_app
        app = create_app({"TESTING": True, "OMS_VIEW_TOTALS": False, "WTF_CSRF_ENABLED": False},
                         settings=Settings(couchdb_url=url, couchdb_user=user, couchdb_password=pw,
                                           db_name=name, secret_key=secret, ldap_url="ldap://127.0.0.1:9"))
        client = app.test_client()
        from webapp import sessions
        with client.session_transaction() as sess:  # signed in as the mirrored reader (no LDAP here)
            sess["user"] = sessions.begin({"name": who.name, "display": who.name, "level": who.level, "roles": []})
        hx = {"HX-Request": "true"}
        far_q = {"after": json.dumps(cursor)}
        assert client.get("/views/all_orders", headers=hx, query_string=far_q).get_data(as_text=True).count('class="doc-link"') == PAGE
        out["app_web_page1_ms"] = median_ms(lambda: client.get("/views/all_orders", headers=hx), r)
        out["app_web_far_ms"] = median_ms(lambda: client.get("/views/all_orders", headers=hx, query_string=far_q), r)

        if args.totals:
            from views.totals import TotalsCache, reduced, totals
            by_status = catalog.get("by_status").count_source(who)
            print(f"building the orders_by_status index over {n:,} orders ...", flush=True)
            out["status_index_build_s"] = round(wait_for_index(server, name, "oms", "orders_by_status",
                                                               reduce="false"), 1)
            # what a page would pay if it ran the grouped reduce itself ...
            out["grouped_reduce_ms"] = median_ms(lambda: reduced(mine, by_status, "*", 1), 2)
            # ... and what it pays with the update_seq-keyed cache (a GET /db at most)
            cache = TotalsCache(seq_ttl=0)
            totals(cache, mine, by_status, 1, wait=3600)
            out["cached_totals_ms"] = median_ms(lambda: totals(cache, mine, by_status, 1), r)

        def ratio(a, b):
            return round(out[a] / out[b], 2) if out[b] else None
        out["ratio_far_vs_page1_raw"] = ratio("raw_key_far_ms", "raw_key_page1_ms")
        out["ratio_far_vs_page1_app_reader"] = ratio("app_reader_far_ms", "app_reader_page1_ms")
        out["ratio_far_vs_page1_app_web"] = ratio("app_web_far_ms", "app_web_page1_ms")
        out["ratio_app_reader_vs_raw_page1"] = ratio("app_reader_page1_ms", "raw_key_page1_ms")
        out["ratio_app_web_vs_raw_far"] = ratio("app_web_far_ms", "raw_key_far_ms")
        out["ratio_skip_vs_key_far"] = ratio("raw_skip_far_ms", "raw_key_far_ms")
        if args.totals:
            out["ratio_grouped_reduce_vs_cached"] = ratio("grouped_reduce_ms", "cached_totals_ms")
    finally:
        couch.close(name)

    print(f"\n{n:,} orders on {out['server']}, {out['machine']}")
    print(f"  _bulk_docs {out['bulk_docs_per_s']:,} docs/s; index build {out['index_build_s']} s")
    print(f"  {'':28}{'page 1':>10}{'page ' + format(far_page, ','):>14}{'ratio':>8}")
    for label, a, b, k in [("raw view query (by key)", "raw_key_page1_ms", "raw_key_far_ms", "ratio_far_vs_page1_raw"),
                           ("app reader (2 principals)", "app_reader_page1_ms", "app_reader_far_ms", "ratio_far_vs_page1_app_reader"),
                           ("app web page (htmx pane)", "app_web_page1_ms", "app_web_far_ms", "ratio_far_vs_page1_app_web")]:
        print(f"  {label:28}{out[a]:>8} ms{out[b]:>11} ms{out[k]:>8}")
    print(f"  raw view query with skip: {out['raw_skip_far_ms']} ms for page {far_page:,} "
          f"({out['ratio_skip_vs_key_far']}x the key-paged query)")
    print(f"  app reader / raw (page 1): {out['ratio_app_reader_vs_raw_page1']}x; "
          f"app web page / raw (page {far_page:,}): {out['ratio_app_web_vs_raw_far']}x")
    if args.totals:
        print(f"  category totals (By status): grouped reduce {out['grouped_reduce_ms']} ms, from the "
              f"update_seq-keyed cache {out['cached_totals_ms']} ms ({out['ratio_grouped_reduce_vs_cached']}x)")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
