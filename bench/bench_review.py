"""The Review page over many orders with a year of history against the raw view queries it
needs (the grouped reduces of the review design views, "*" principal), in the same run on the same
server, so the machine's speed cancels out. The page reads cached totals (views/totals.py): the
figure is the page as a person sees it once the cache holds the current update_seq; the cold
count (what the background thread pays once per change of the database) is reported beside it.

    .venv/bin/python -m bench.bench_review [--orders 100000] [--repeat 20]

Starts its own PouchDB Server (the embedded default) unless COUCHDB_URL (+ COUCHDB_USER,
COUCHDB_PASSWORD) names a server, e.g. an Apache CouchDB 3. Prints a table; the last line is a
JSON object with every figure (milliseconds, medians)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ScratchCouch, median_ms, settle, wait_for_index  # noqa: E402
from couch_design.deploy import deploy  # noqa: E402
from oms.core.config import Settings, scratch_secret  # noqa: E402
from oms.identity import people  # noqa: E402
from oms.identity.acl import Access  # noqa: E402
from oms.store.couch import CouchServer  # noqa: E402
from tests.viewdata import order_doc  # noqa: E402
from views import review as rv  # noqa: E402

PATH = [("approve", "submitted", "approved"), ("allocate", "approved", "allocated"), ("pick", "allocated", "picking"),
        ("ship", "picking", "shipped"), ("deliver", "shipped", "delivered"), ("invoice", "delivered", "invoiced"),
        ("close", "invoiced", "closed")]
WAREHOUSES = ("MAIN", "EAST", "WEST")
TIERS = ("gold", "silver", "bronze")
YEAR = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.timezone.utc)


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def year_of_orders(first: int, count: int, rnd: random.Random) -> list[dict]:
    """Orders placed over a year, each taken some way along the workflow with random stays (most
    shipped, some still open), with tier, warehouse, fill at placement and a promised date."""
    docs = []
    for i in range(first, first + count):
        start = YEAR + dt.timedelta(minutes=rnd.randrange(0, 340 * 24 * 60))
        d = order_doc(f"SO-{i:06d}", status="submitted", at=iso(start),
                      lines=[{"sku": "WID-100", "qty": 4, "unit_price_cents": 450}] * rnd.randint(1, 3))
        d["customer"]["tier"] = rnd.choice(TIERS)
        d["promised_date"] = (start + dt.timedelta(days=rnd.randint(2, 8))).date().isoformat()
        steps = rnd.choices(range(len(PATH) + 1), weights=[3, 3, 3, 3, 20, 15, 20, 33])[0]
        t, status = start, "submitted"
        for action, frm, to in PATH[:steps]:
            t += dt.timedelta(hours=rnd.lognormvariate(2.0, 1.0))
            d["history"].append({"at": iso(t), "by": "bench", "action": action, "from": frm, "to": to})
            status = to
            if action == "allocate":
                wh = rnd.choice(WAREHOUSES)
                short = rnd.random() < 0.1
                d["allocations"] = [{"line": ln["line"], "sku": ln["sku"], "warehouse": wh, "qty": 2 if short else 4}
                                    for ln in d["lines"]]
                d["fill"] = {"lines": len(d["lines"]), "full": 0 if short else len(d["lines"])}
                if short:
                    d["backorders"] = [{"line": ln["line"], "sku": ln["sku"], "qty": 2} for ln in d["lines"]]
        if status in ("shipped", "delivered", "invoiced", "closed"):
            d.pop("backorders", None)
        d["status"] = status
        d["updated_at"] = d["history"][-1]["at"]
        docs.append(d)
    return docs


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args(argv)
    n, r = args.orders, args.repeat
    env = Settings.from_env()
    couch = ScratchCouch("bench-review")
    url, user, pw, kind = couch.url, couch.user, couch.password, couch.kind
    server = CouchServer(url, user, pw, timeout=3600)
    name = f"bench_review_{secrets.token_hex(4)}"
    db = server.admin(name)
    out: dict = {"bench": "review", "server": kind, "orders": n,
                 "machine": f"{platform.machine()} {os.cpu_count()} cores {platform.processor() or ''}".strip()}
    try:
        deploy(db, progress=lambda *_: None, namespace=env.namespace)
        rnd = random.Random(5)
        t0 = time.perf_counter()
        batch = 2000
        for start in range(1, n + 1, batch):
            db.bulk(year_of_orders(start, min(batch, n + 1 - start), rnd))
            if (start // batch) % 10 == 0 or start + batch > n:
                print(f"  seeded {min(n, start + batch - 1):,}/{n:,}", flush=True)
        out["seed_s"] = round(time.perf_counter() - t0, 1)
        print(f"building the indexes over {n:,} orders ...", flush=True)
        t0 = time.perf_counter()
        for view in ("durations", "flow", "open"):   # a cluster answers a long build with a timeout: asked again
            wait_for_index(server, name, "review", view, progress=lambda *_: None, reduce="false")
        settle(server, name)
        out["index_build_s"] = round(time.perf_counter() - t0, 1)

        secret = scratch_secret(env)
        who = Access("bench_manager", "manager", ())
        people.mirror(server, secret, who, namespace=env.namespace)
        mine = people.open_as(server, secret, name, who.name, env.namespace)
        f = rv.Filters.parse({"grain": "m", "from": "2026-01", "to": "2026-12"}, dt.date(2026, 12, 7))

        def raw():
            """The grouped reduces the page's figures come from, as a raw client would ask them."""
            for kind_, parts in rv.PARTS.items():
                src = rv._source(who, kind_, f)
                for seg in src.segments:
                    low = ["*", *seg, *src.lower]
                    high = ["*", *seg, *(src.upper if src.upper is not None else ({},))]
                    db.view("review", rv.VIEW[kind_], start_key=low, end_key=high, reduce=True,
                            group_level=1 + parts)

        from views.totals import TotalsCache
        t0 = time.perf_counter()
        fig = rv.review(TotalsCache(), mine, who, f, wait=3600)
        out["cold_count_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        assert not fig.counting, "the first count did not finish"
        shipped = next(x for x in fig.figures["end_to_end"] if x["end"] == "shipped")
        out["shipped_orders"] = shipped["count"]
        out["raw_reduces_ms"] = median_ms(raw, max(2, r // 5))

        from webapp import create_app, sessions
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "OMS_TOTALS_WAIT": 3600.0},
                         settings=Settings(couchdb_url=url, couchdb_user=user, couchdb_password=pw, desk=env.desk,
                                           db_name=name, secret_key=secret, ldap_url="ldap://127.0.0.1:9"))
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["user"] = sessions.begin({"name": who.name, "display": who.name, "level": who.level, "roles": []})
        q = {"grain": "m", "from": "2026-01", "to": "2026-12"}
        page = client.get("/review", headers={"HX-Request": "true"}, query_string=q)   # counts, then cached
        assert page.status_code == 200 and page.get_data(as_text=True).count("<svg") == 7, page.status_code
        out["app_page_ms"] = median_ms(lambda: client.get("/review", headers={"HX-Request": "true"}, query_string=q), r)
        # The full page also shows the navigator, whose counts of the order views are first
        # counted in the background (their indexes built on the way): wait for those, so the
        # figure is the page's and not one first count of each order view.
        t0 = time.perf_counter()
        while "…</span>" in client.get("/review", query_string=q).get_data(as_text=True):
            if time.perf_counter() - t0 > 1800:
                raise RuntimeError("the navigator's counts never arrived")
            time.sleep(1)
        out["navigator_first_counts_s"] = round(time.perf_counter() - t0, 1)
        out["app_full_page_ms"] = median_ms(lambda: client.get("/review", query_string=q), r)
        out["ratio_app_page_vs_raw"] = round(out["app_page_ms"] / out["raw_reduces_ms"], 3) if out["raw_reduces_ms"] else None
        out["target_ms"] = round(min(2 * out["raw_reduces_ms"] + 20, 300), 1)
    finally:
        couch.close(name)

    print(f"\n{n:,} orders with a year of history on {out['server']}, {out['machine']}")
    print(f"  seeded in {out['seed_s']} s; review indexes built in {out['index_build_s']} s")
    print(f"  raw grouped reduces the page needs: {out['raw_reduces_ms']} ms")
    print(f"  Review page (htmx pane, cached totals): {out['app_page_ms']} ms; full page {out['app_full_page_ms']} ms "
          f"({out['ratio_app_page_vs_raw']}x raw; target <= {out['target_ms']} ms)")
    print(f"  first count after a change (background): {out['cold_count_ms']} ms; "
          f"the navigator's first counts of the order views: {out['navigator_first_counts_s']} s")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
