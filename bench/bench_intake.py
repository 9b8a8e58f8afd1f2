"""Order intake through the API with 8 concurrent clients: each order is placed as submitted, so
it is validated and numbered, told its availability, credit-checked against the customer's limit,
given its priority and has its stock reserved (the hand-offs of oms/fulfilment/handoffs.py). Measured against raw single-document writes of the same orders to the same server, as the
same person (so the same validate_doc_update runs), in the same run."""
from __future__ import annotations

import contextlib
import copy
import os
import threading
import time

import requests

from oms.identity import people

from .common import Report, ServerMeter, app_cpu_ms, app_server, fresh_stack, like_for_like, products, raw_quorums, size

CLIENTS = 8
# A catalogue, as a business has: each order takes two of these SKUs in turn, so orders contend for
# stock documents as real ones do (50 clients racing for ONE SKU: bench_reservation.py).
SKUS = tuple(f"SKU-{i:03d}" for i in range(100))
# ... and customers: each order is credit-checked against its customer's open orders.
CUSTOMERS = tuple(f"C{i:04d}" for i in range(1, 51))
# The scale-out measure (several app worker processes) places orders for customers and stock of
# its own, so that the main app's memories of them (oms.core.memories: stock, exposure) are not made
# stale by its writes between turns.
SKUS_OUT = tuple(f"OUT-{i:03d}" for i in range(100))
CUSTOMERS_OUT = tuple(f"X{i:04d}" for i in range(1, 51))
# ... and the same processes as apps of their own (one process each, the clients split between
# them), each with stock and customers of its own: no process's memory goes stale on another's
# writes, which tells that cost apart from the cost of each process's passes being less full.
SKUS_APART = tuple(tuple(f"A{j}-{i:03d}" for i in range(100)) for j in range(8))
CUSTOMERS_APART = tuple(tuple(f"A{j}{i:03d}" for i in range(1, 51)) for j in range(8))
# Each side runs ROUNDS times, in turns (placed, drafts, raw, ..., placed by WORKERS processes).
ROUNDS = size(4, 1)
# App worker processes of the scale-out measure (one is `oms serve`'s default and the main measure).
WORKERS = max(2, min(8, int(os.environ.get("OMS_BENCH_WORKERS", "2"))))


def _run_clients(n_per_client: int, work, first: int = 0) -> float:
    """Start CLIENTS threads each doing `work(session, i)` n times (i from `first` on, distinct
    across clients and rounds); returns the seconds they took."""
    errors = []

    def client(k):
        s = requests.Session()
        try:
            for i in range(n_per_client):
                work(s, first + k * n_per_client + i)
        except Exception as exc:  # a benchmark must not hide failures
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return elapsed


def order_body(i: int, status: str = "submitted", skus=SKUS, customers=CUSTOMERS) -> dict:
    return {"customer": customers[i % len(customers)], "status": status,
            "lines": [{"sku": skus[i % len(skus)], "qty": 3, "unit_price": "4.50"},
                      {"sku": skus[(i * 7 + 1) % len(skus)], "qty": 1, "unit_price": "39.90"}]}


def seed(admin, skus=SKUS, customers=CUSTOMERS) -> None:
    admin.bulk([{"_id": f"customer:{c}", "type": "customer", "name": f"Customer {c}", "currency": "EUR",
                 "tier": "gold", "credit_limit_cents": 10_000_000_000, "open_balance_cents": 0}
                for c in customers])
    # enough stock that every line is reserved in full, in two warehouses
    admin.bulk([{"_id": f"stock:{sku}:{wh}", "type": "stock", "sku": sku, "warehouse": wh,
                 "on_hand": 1_000_000, "reserved": 0, "holds": {}} for sku in skus for wh in ("MAIN", "EAST")])
    admin.bulk(products(skus))


def run(report: Report) -> None:
    n = size(250, 10)
    sally = ("sally", "demo")
    with fresh_stack() as stack:
        s = stack.settings
        admin = stack.server().admin(s.db_name)
        seed(admin)
        seed(admin, SKUS_OUT, CUSTOMERS_OUT)
        for j in range(WORKERS):
            seed(admin, SKUS_APART[j], CUSTOMERS_APART[j])
        quorums = raw_quorums(s)
        per_client = n // CLIENTS or 1
        seconds: dict[str, list[float]] = {"placed": [], "drafts": [], **{q: [] for q in quorums},
                                           "placed_out": [], "placed_apart": []}
        with contextlib.ExitStack() as apps:
            url = apps.enter_context(app_server(s, workers=1))
            url_out = apps.enter_context(app_server(s, workers=WORKERS))
            urls_apart = [apps.enter_context(app_server(s, workers=1)) for _ in range(WORKERS)]
            # warm up: sign-in (LDAP bind + _users mirror), the system identity, view indexes; the
            # draft's first revision is what the raw side writes (a new order, the same VDU path).
            # The scale-out app is warmed once per worker process, likely.
            requests.post(url + "/api/v1/orders", json=order_body(0), auth=sally).raise_for_status()
            draft = requests.post(url + "/api/v1/orders", json=order_body(1, "draft"), auth=sally)
            draft.raise_for_status()
            for w in range(2 * WORKERS):
                requests.post(url_out + "/api/v1/orders", json=order_body(w, "submitted", SKUS_OUT, CUSTOMERS_OUT),
                              auth=sally).raise_for_status()
            for j, u in enumerate(urls_apart):
                requests.post(u + "/api/v1/orders", json=order_body(0, "submitted", SKUS_APART[j], CUSTOMERS_APART[j]),
                              auth=sally).raise_for_status()

            def placer(base_url, skus, customers):
                def placed(session, i):
                    r = session.post(base_url + "/api/v1/orders", json=order_body(i, "submitted", skus, customers),
                                     auth=sally, timeout=60)
                    assert r.status_code == 201, r.text
                    order = r.json()
                    assert order["status"] == "allocated" and not order.get("backorders"), order
                return placed

            apart = [placer(u, SKUS_APART[j], CUSTOMERS_APART[j]) for j, u in enumerate(urls_apart)]

            def placed_apart(session, i):   # client k places through app k % WORKERS
                apart[(i // per_client) % WORKERS](session, i)

            def drafted(session, i):
                r = session.post(url + "/api/v1/orders", json=order_body(i, "draft"), auth=sally, timeout=60)
                assert r.status_code == 201 and r.json()["availability"], r.text

            # raw: the same order documents, PUT straight to the server as the same person (same
            # VDU), once per way a client may ask for its write to be taken (raw_quorums)
            template = {k: v for k, v in draft.json().items() if k not in ("availability", "_rev")}
            auth = ("sally", people.couch_password(s.secret_key, "sally"))
            base = f"{s.couchdb_url}/{s.db_name}/"

            accepted: dict[str, int] = {}

            def raw_writer(prefix: str, params: dict):
                def raw_work(session, i):
                    doc = copy.deepcopy(template)
                    number = f"SO-{prefix}{i:05d}"
                    doc.update(_id=f"order:{number}", number=number)
                    r = session.put(base + doc["_id"], json=doc, params=params, auth=auth, timeout=60)
                    # 202: taken, by fewer copies than asked for so far (the app's order writes
                    # take it the same way)
                    assert r.status_code in (201, 202), r.text
                    if r.status_code == 202:
                        accepted[prefix] = accepted.get(prefix, 0) + 1
                return raw_work

            work = {"placed": placer(url, SKUS, CUSTOMERS), "drafts": drafted,
                    **{q: raw_writer(f"{9 - k}", params) for k, (q, params) in enumerate(quorums.items())},
                    "placed_out": placer(url_out, SKUS_OUT, CUSTOMERS_OUT), "placed_apart": placed_apart}
            # The sides take turns, ROUNDS times, so that each meets the same machine: on this
            # shared VM one side measured alone moved by a third from one minute to the next.
            meter, spent = ServerMeter(stack), {side: [] for side in work}
            app_of = {"placed": [url], "drafts": [url], "placed_out": [url_out], "placed_apart": urls_apart}

            def app_cpu(side: str) -> float | None:
                return sum(app_cpu_ms(u) for u in app_of[side]) if side in app_of else None
            for r in range(ROUNDS):
                first = r * CLIENTS * per_client
                for side, fn in work.items():
                    before = {**meter.read(), "app_cpu_ms": app_cpu(side)}
                    seconds[side].append(_run_clients(per_client, fn, first))
                    after = {**meter.read(), "app_cpu_ms": app_cpu(side)}
                    spent[side].append(ServerMeter.per(before, after, CLIENTS * per_client))
    done = CLIENTS * per_client
    rate = {side: len(ts) * done / sum(ts) for side, ts in seconds.items()}
    spread = {side: "/".join(f"{done / t:.0f}" for t in ts) for side, ts in seconds.items()}
    raw = like_for_like(quorums)
    report.line("intake_api_vs_raw_writes", rate["placed"], rate[raw], "orders/s", rate["placed"] / rate[raw], ">= 0.5")
    report.note("each order placed as submitted: validation, availability, credit check, priority, stock "
                "reserved; the orders placed at one moment settled in one pass (oms/fulfilment/placement.py)")
    report.line("intake_drafts_vs_raw_writes", rate["drafts"], rate[raw], "orders/s", rate["drafts"] / rate[raw], ">= 0.5")
    report.note("drafts: validation, availability and priority answered, one order write; no hand-offs")
    report.line(f"intake_placed_{WORKERS}workers_vs_raw_writes", rate["placed_out"], rate[raw], "orders/s",
                rate["placed_out"] / rate[raw], "none")
    report.line(f"intake_placed_{WORKERS}workers_vs_1worker", rate["placed_out"], rate["placed"], "orders/s",
                rate["placed_out"] / rate["placed"], "none")
    report.line(f"intake_placed_{WORKERS}apart_vs_1worker", rate["placed_apart"], rate["placed"], "orders/s",
                rate["placed_apart"] / rate["placed"], "none")
    report.note(f"the same placed orders through {WORKERS} app worker processes (gunicorn, 8 threads each) against "
                f"one; customers and stock of their own. 'apart': {WORKERS} apps of one process each, the clients "
                "split between them, each app with stock and customers of its own (no memory goes stale)")
    if raw != "raw":
        report.ratios["intake_api_vs_raw_writes_default_w"] = round(rate["placed"] / rate["raw"], 3)
        report.ratios["intake_drafts_vs_raw_writes_default_w"] = round(rate["drafts"] / rate["raw"], 3)
        report.note(f"raw writes ask every copy ({raw[4:]}), as the app's do; with the server's default "
                    f"quorum: {rate['raw']:.1f} writes/s, placed {rate['placed'] / rate['raw']:.2f}, "
                    f"drafts {rate['drafts'] / rate['raw']:.2f} (the *_default_w ratios)")
    else:
        report.note("raw writes: the server's default (one copy)")
    if accepted:
        report.note(f"raw writes answered 202 (fewer copies than asked): {sum(accepted.values())}")
    report.note(f"{ROUNDS} rounds of {done} each, taking turns; orders/s by round: "
                + ", ".join(f"{side} {spread[side]}" for side in seconds))
    for figure, label, fmt in (("cpu_ms", "server CPU ms", "{:.1f}"), ("app_cpu_ms", "app CPU ms", "{:.1f}"),
                               ("requests", "HTTP requests to the server", "{:.2f}")):
        means = {side: [x[figure] for x in xs] for side, xs in spent.items()
                 if all(x[figure] is not None for x in xs)}
        if means:
            report.note(f"{label} per order: " + ", ".join(f"{side} " + fmt.format(sum(vs) / len(vs))
                                                           for side, vs in means.items()))


if __name__ == "__main__":
    r = Report()
    run(r)
    r.finish()
