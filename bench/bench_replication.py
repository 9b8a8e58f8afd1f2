"""Filtered partner replication vs a raw replication of the same subset (target: at most 1.5x).

    .venv/bin/python -m bench.bench_replication [--orders 100000] [--share 0.1]

Seeds N orders (the shape oms.ordering.orders.new_order makes) with _bulk_docs as admin into the central
database of a fresh stack (the embedded PouchDB Server unless COUCHDB_URL is set); a share of
them, and one customer, belong to a partner (field `partner`, what filters/by_partner and the
CouchDB 3 selector key on). Then, on the same server in the same run:

- raw: a one-shot replication of exactly the partner's documents (`doc_ids`) into a fresh
  database, as admin, over HTTP, with the server's defaults: the cheapest raw way to move that
  subset. Measured before and after the app; the ratio uses their mean.
- app: the product's own path, `Partners.add(partner)`: replicator identity, partner database,
  _security, _design/partner (its validate_doc_update runs on every replicated document), and the
  continuous push and pull `_replicator` documents (filter `oms/by_partner` on PouchDB Server, a
  selector on CouchDB 3), timed from the call until the partner's database holds every one of
  the partner's documents; then the copy is checked to hold exactly those.
- notes, for context: the same filter in a one-shot replication as admin, the raw replication
  with 500 documents per batch, a local-name replication (PouchDB Server only: in-process, no
  HTTP), and an unfiltered replication of the whole database.

Replications are `_replicator` documents, not POST /_replicate: PouchDB Server 4.2.0 takes only
filter, query_params and continuous from a /_replicate body, so `doc_ids` (like `selector`)
would be ignored and everything copied. Prints one line per measure and, last, one JSON object
whose "ratio*" keys are the ratios."""
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

from bench.common import Report, fresh_stack, products, wait_for_index  # noqa: E402
from oms.catalog.products import Book  # noqa: E402
from oms.identity.acl import Access  # noqa: E402
from oms.ordering.orders import new_order  # noqa: E402
from oms.store.couch import CouchServer  # noqa: E402
from replication import replicator  # noqa: E402
from replication.partners import Partners, database_name, number_prefix, replicator_name  # noqa: E402

NOW = "2026-11-01T08:00:00Z"


def template(customer: dict, partner: str | None) -> dict:
    """One order as the product makes it (oms.ordering.orders.new_order); every seeded order copies it.
    A partner's order looks as PartnerService.place writes it (partner, authors)."""
    who = Access(f"alice@{partner}", "author", ("[Partner]",)) if partner else Access("sally", "author", ("[Sales]",))
    book = Book({p["sku"]: p for p in products(["WID-100", "GAD-310"])}, ())
    doc = new_order({"status": "submitted", "notes": "bench order",
                     "lines": [{"sku": "WID-100", "qty": 3, "unit_price": "4.50"},
                               {"sku": "GAD-310", "qty": 1, "unit_price": "39.90"}]},
                    "SO-000000", who, customer, NOW, book)
    if partner:
        doc["partner"] = partner
        doc["authors"] = [who.name, "[Sales]"]
    return doc


def seed(db, n: int, share: float, partner: str, progress) -> list[str]:
    """n orders through _bulk_docs as admin, every round(1/share)-th one the partner's (numbered
    as a partner's are). Returns the _ids of the partner's documents: its customer and orders."""
    customers = {}
    for cid, name, owner in (("B0001", "Bench Staff Customer", None), (f"{partner.upper()}-B1", "Road Runner", partner)):
        doc = {"_id": f"customer:{cid}", "type": "customer", "name": name, "tier": "silver", "currency": "EUR"}
        if owner:
            doc["partner"] = owner
        db.save(doc)
        customers[owner] = doc
    shapes = {owner: json.dumps(template(c, owner)) for owner, c in customers.items()}
    every = max(1, round(1 / share)) if share > 0 else 0
    theirs, batch, staff, mine = [customers[partner]["_id"]], [], 0, 0
    for i in range(1, n + 1):
        owner = partner if every and i % every == 0 else None
        if owner:
            mine += 1
            number = f"{number_prefix(owner)}{mine:06d}"
        else:
            staff += 1
            number = f"SO-{staff:06d}"
        doc = json.loads(shapes[owner])
        doc.update(_id=f"order:{number}", number=number, priority=1 + i % 5)
        batch.append(doc)
        if owner:
            theirs.append(doc["_id"])
        if len(batch) == 2000 or i == n:
            bad = [r for r in db.bulk(batch) if r.get("error")]
            if bad:
                raise RuntimeError(f"seeding refused {len(bad)} orders, e.g. {bad[0]}")
            batch = []
            if i % 20_000 == 0 or i == n:
                progress(f"  seeded {i:,}/{n:,}")
    return theirs


def wait_count(server: CouchServer, db_name: str, want: int, timeout: float, every: float = 0.05) -> float:
    """Seconds until `db_name` holds at least `want` documents (GET /db doc_count: cheap)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if server.request("GET", f"/{db_name}")["doc_count"] >= want:
            return time.perf_counter() - t0
        time.sleep(every)
    raise RuntimeError(f"{db_name} did not reach {want} documents within {timeout:.0f} s")


def held(server: CouchServer, db_name: str, want: set[str] | None = None, most: float = 120) -> set[str]:
    """The ids `db_name` holds (design documents aside). With `want`, read again until they are
    those, for at most `most` seconds: a cluster answers `_all_docs` from one copy of each shard,
    and the replication's writes reach every copy a moment after the count first shows them."""
    deadline = time.monotonic() + most
    while True:
        got = {r["id"] for r in server.admin(db_name).all_docs()["rows"] if not r["id"].startswith("_design/")}
        if want is None or got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


class Server:
    """The server under test: timing one-shot replications on it, and its CPU when embedded."""

    def __init__(self, stack, timeout: float):
        s = stack.settings
        self.couch = CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password, timeout=timeout)
        self.user, self.password, self.timeout = s.couchdb_user, s.couchdb_password, timeout
        self.pid = stack.couch.proc.pid if stack.couch else None
        self.kind = replicator.server_kind(self.couch.url)
        self.created: list[str] = []

    def cpu(self) -> float | None:
        """CPU seconds the embedded server has used (user + system), None for COUCHDB_URL."""
        if not self.pid:
            return None
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def settle(self, db_name: str, most: float = 120) -> float:
        """Wait until the server is idle after the seeding (leveldb compacts in the background
        for a while after 100,000 writes; a CouchDB cluster builds the database's view indexes in
        the background after writes), so that neither side pays for it; seconds waited."""
        t0 = time.perf_counter()
        if not self.pid:
            # CouchDB builds the design's index on every copy of every shard once asked (or a
            # while after the writes, by itself): asked here, and waited for
            wait_for_index(self.couch, db_name, "oms", "orders_by_number", progress=lambda *_: None)
            time.sleep(2)
            return time.perf_counter() - t0
        while time.perf_counter() - t0 < most:
            before = self.cpu()
            time.sleep(1)
            if self.cpu() - before < 0.05:
                break
        return time.perf_counter() - t0

    def endpoint(self, db: str):
        return replicator.Endpoint(self.couch.url, db, self.user, self.password).as_json()

    def one_shot(self, source: str, target: str, want: int, local: bool = False, **spec) -> tuple[float, float | None]:
        """A one-shot replication (a `_replicator` document without `continuous`) of `source`
        into the fresh database `target`, as admin; (seconds until the copy holds `want`
        documents and the replication says it completed, server CPU seconds)."""
        self.couch.admin(target).create()
        self.created.append(target)
        doc = {"_id": f"bench-{target}", **spec,
               "source": source if local else self.endpoint(source),
               "target": target if local else self.endpoint(target)}
        rep = self.couch.admin("_replicator")
        cpu0 = self.cpu()
        rep.save(doc)
        took = wait_count(self.couch, target, want, self.timeout)
        deadline = time.monotonic() + self.timeout
        while (state := replicator.job_state(self.couch, doc["_id"])) != "completed":
            if state in ("error", "failed") or time.monotonic() > deadline:
                raise RuntimeError(f"the replication into {target} ended as {state!r}")
            time.sleep(0.05)
        cpu = self.cpu()
        replicator.remove(self.couch, doc["_id"])
        return took, (round(cpu - cpu0, 2) if cpu is not None else None)

    def drop(self, names) -> None:
        for name in names:
            try:
                self.couch.request("DELETE", f"/{name}")
            except Exception:
                pass


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--share", type=float, default=0.1, help="the partner's share of the orders (default 0.1)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds to wait for one replication")
    ap.add_argument("--no-notes", dest="notes", action="store_false",
                    help="skip the context figures (filter one-shot, batch 500, local names, whole database)")
    args = ap.parse_args(argv)
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    # A partner id of its own, so a run against a shared COUCHDB_URL meets no real partner.
    partner = "bench" + secrets.token_hex(3)
    tag = secrets.token_hex(3)
    out: dict = {"bench": "partner_replication", "orders": args.orders, "share": args.share,
                 "machine": f"{platform.machine()} {os.cpu_count()} cores"}
    report = Report()
    with fresh_stack() as stack:
        srv = Server(stack, args.timeout)
        out["server"] = srv.kind
        s = stack.settings
        central = srv.couch.admin(s.db_name)
        t0 = time.perf_counter()
        theirs = seed(central, args.orders, args.share, partner, say)
        out["seed_s"] = round(time.perf_counter() - t0, 1)
        n = len(theirs)
        out["partner_docs"] = n
        say(f"seeded {args.orders:,} orders in {out['seed_s']} s; {n:,} documents are the partner's")
        out["settle_s"] = round(srv.settle(s.db_name), 1)
        partners = Partners(srv.couch, s, progress=lambda *_: None)
        copy = database_name(partner)
        try:
            # raw, before the app: exactly the partner's documents, by id, into a fresh database
            raw1, out["raw_cpu_s"] = srv.one_shot(s.db_name, f"bench_raw1_{tag}", n, doc_ids=theirs)
            assert held(srv.couch, f"bench_raw1_{tag}", set(theirs)) == set(theirs), "the raw copy is not the subset"

            # app: the product's path, from Partners.add until the copy holds every partner document
            cpu0, t0 = srv.cpu(), time.perf_counter()
            partners.add(partner, "Bench Partner")
            app = wait_count(srv.couch, copy, n + 1, args.timeout)  # + its _design/partner
            cpu1 = srv.cpu()
            out["app_cpu_s"] = round(cpu1 - cpu0, 2) if cpu0 is not None else None
            got = held(srv.couch, copy, set(theirs))
            assert got == set(theirs), (f"the partner copy holds {len(got)} documents; "
                                        f"{len(got - set(theirs))} not the partner's, {len(set(theirs) - got)} missing")
            for doc_id in partners.replication_ids(partner):
                replicator.remove(srv.couch, doc_id)

            # raw again, after the app (the machine is shared: both sides get the same minutes)
            raw2, _ = srv.one_shot(s.db_name, f"bench_raw2_{tag}", n, doc_ids=theirs)
            out.update(app_s=round(app, 2), raw_s=round((raw1 + raw2) / 2, 2),
                       raw_before_s=round(raw1, 2), raw_after_s=round(raw2, 2))

            if args.notes:
                f = {"filter": "oms/by_partner", "query_params": {"partner": partner}}
                out["filter_one_shot_s"], out["filter_one_shot_cpu_s"] = srv.one_shot(
                    s.db_name, f"bench_filter_{tag}", n, **f)
                batch = {"worker_batch_size" if srv.kind == "couchdb" else "batch_size": 500}
                out["raw_batch500_s"], _ = srv.one_shot(s.db_name, f"bench_raw500_{tag}", n, doc_ids=theirs, **batch)
                if srv.kind == "pouchdb-server":  # CouchDB 3 takes only URLs in _replicator documents
                    out["raw_local_names_s"], _ = srv.one_shot(s.db_name, f"bench_local_{tag}", n, local=True,
                                                               doc_ids=theirs)
                everything = central.info()["doc_count"]
                out["raw_whole_db_s"], _ = srv.one_shot(s.db_name, f"bench_whole_{tag}", everything)
        finally:
            for doc_id in partners.replication_ids(partner):
                replicator.remove(srv.couch, doc_id)
            srv.drop([*srv.created, copy])
            try:
                users = srv.couch.admin("_users")
                user = users.get_or_none(f"org.couchdb.user:{replicator_name(partner)}")
                if user:
                    users.delete(user["_id"], user["_rev"])
            except Exception:
                pass

    for key in [k for k in out if k.endswith("_s") and isinstance(out[k], float)]:
        out[key] = round(out[key], 2)
    out["ratio_partner_vs_raw_subset"] = round(out["app_s"] / out["raw_s"], 3)
    report.line("partner replication vs raw subset", out["app_s"], out["raw_s"], "s",
                out["ratio_partner_vs_raw_subset"], "<= 1.5")
    report.note(f"{args.orders:,} orders, {n:,} documents the partner's; {out['server']}, {out['machine']}; "
                f"raw {out['raw_before_s']} s before the app, {out['raw_after_s']} s after")
    if out.get("app_cpu_s") is not None:
        report.note(f"server CPU: app {out['app_cpu_s']} s, raw {out['raw_cpu_s']} s")
    if args.notes:
        report.note(f"the same filter in a one-shot replication as admin (no validation, default batch): "
                    f"{out['filter_one_shot_s']} s")
        report.note(f"raw doc_ids with 500 documents per batch: {out['raw_batch500_s']} s"
                    + (f"; by local names (in-process): {out['raw_local_names_s']} s" if "raw_local_names_s" in out else ""))
        report.note(f"unfiltered replication of the whole database ({args.orders:,} orders): {out['raw_whole_db_s']} s")
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    main()
