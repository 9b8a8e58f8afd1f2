"""Import orders, customers and stock from CSV, JSON or XML files (docs/import-export.md).

- The whole file is parsed first: a malformed or hostile file (XML with a DTD, entities or
  external references) is refused with a clear error and NOTHING is written.
- Then each record is checked and written in batches (_bulk_docs): the good ones go in; each bad
  one is reported with the line it starts on and the reason (ours or validate_doc_update's).
- Re-running the same file creates no duplicates: an order is claimed by its external reference
  (oms/interchange/refclaims.py: the order number reserved for it, written before the order with a write
  that conflicts when someone else claimed first), customers and stock are upserts keyed by their
  external ids.
- Orders are checked and built batch by batch while the batches before them are claimed and
  written on a thread of their own (Python and the database work at once).
- Writes go to CouchDB as the importing identity (a person on the web, the system identity
  oms-agent on the command line), never as the CouchDB admin.

Each kind of record has its handler (HANDLERS), applied in the order of KINDS: orders need their
customers."""
from __future__ import annotations

import hashlib
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from queue import Empty, Queue
from typing import Callable, Iterable, Protocol

from oms.core import memories
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.inputs import whole_number
from oms.catalog import products
from oms.crm import customers as crm
from oms.identity.acl import Access
from oms.ordering import orders
from oms.wms.stock import clean_bin
from oms.store import cas
from oms.store.couch import Database
from oms.store.idempotency import fingerprint
from oms.store.numbers import NumberAllocator
from oms.wms.stock import SKU, WAREHOUSE

from .formats import KINDS
from .records import Record
from .refclaims import Claim, ClaimBook

BATCH = 200
# Batches written at once: the writers take turns on the GIL with the thread that builds the next
# batches, so one writer leaves the database idle between its requests, and a third only adds to
# the server's interleaved work (the measures: bench/README.md, "Two writers").
WRITERS = 2


@dataclass
class Problem:
    line: int
    reason: str
    ref: str | None = None
    kind: str | None = None


@dataclass
class Report:
    format: str
    kind: str = ""
    filename: str = ""
    counts: Counter = field(default_factory=Counter)
    by_kind: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    created: list = field(default_factory=list)
    report_id: str | None = None
    unmapped: list = field(default_factory=list)   # DXL: what did not map
    # an order import checks on one thread and writes on another (create_claimed): both report
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, kind: str, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n
            self.by_kind.setdefault(kind, Counter())[what] += n

    def problem(self, rec: Record, reason: str) -> None:
        with self._lock:
            self.problems.append(Problem(rec.line, reason, rec.ref, rec.kind))
        self.count(rec.kind, "failed")

    def as_dict(self) -> dict:
        out = {"kind": self.kind, "format": self.format, "filename": self.filename,
               "counts": {k: self.counts.get(k, 0) for k in ("created", "updated", "unchanged", "failed")},
               "by_kind": {k: dict(v) for k, v in self.by_kind.items()},
               "problems": [{"line": p.line, "ref": p.ref, "kind": p.kind, "reason": p.reason}
                            for p in sorted(self.problems, key=lambda p: p.line)],
               "created": sorted(self.created, key=lambda c: c["line"])[:1000], "report_id": self.report_id}
        if self.unmapped:
            out["unmapped"] = self.unmapped
        return out

    def summary(self) -> str:
        c = self.counts
        return (f"{c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged, "
                f"{c['failed']} refused")


@dataclass
class ImportContext:
    """Who imports, into which database, with which clock and number allocator."""
    db: Database
    access: Access
    numbers: NumberAllocator
    clock: Callable[[], str] = utcnow
    progress: Callable[[int, int], None] | None = None   # (records done, records in all)
    keep_report: bool = True
    directory: object | None = None   # oms.identity.directory.Directory: Notes names -> our people (DXL)


# ---------------------------------------------------------------- reading files
def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- the handlers
class Handler(Protocol):
    kind: str

    def apply(self, ctx: ImportContext, records: list[Record], report: Report) -> None: ...


def _bulk_results(ctx: ImportContext, docs: list[dict]) -> list[dict]:
    # Two runs that meet one claim both create its order: the one that stands counts (oms/store/cas.py).
    return cas.create_all(ctx.db, docs) if docs else []


def _chunks(items: list, n: int = BATCH):
    for i in range(0, len(items), n):
        yield items[i:i + n]


@dataclass
class OrderClaim:
    """One order to create once per external reference."""
    record: Record
    ref: str
    fp: str
    build: Callable[[str], dict]     # number -> the order document


ROUND = 5   # batches claimed together at most: one counter write and one claims write for them all


def create_claimed(ctx: ImportContext, claims: list[OrderClaim] | Iterable[list[OrderClaim]], report: Report,
                   kind: str = "orders", done: Callable[[int], None] | None = None,
                   first_refs: list[str] | None = None) -> None:
    """Claim each reference (oms/interchange/refclaims.py: the number reserved for it, written before its
    order) and create its order once. A reference claimed before, by an earlier or a concurrent
    run, keeps its number: its order is created only if missing (a run that stopped between the
    two writes), never a second one; the same reference with other content is reported, never
    applied.

    `claims`: a list, or batches (lists) built while the batches before them are claimed and
    written. Three stages overlap: the caller's thread builds batches (Python); a claimer
    thread claims the batches waiting (up to ROUND at once: one counter write and one write of
    claim documents for them all); WRITERS writer threads write the claimed batches' orders (one
    _bulk_docs each, as a raw client would, two at a time). So the database works on batch k's
    orders while the claims of the next ones are written and later ones are built. Batches may
    land out of order: a reference met again is only ever written with its first content.
    `done(n)`: n more records finished; `first_refs`: the references of the first batch, whose
    claims are read while it is built."""
    book = ClaimBook(ctx.db, kind, ctx.access.name, ctx.clock)
    batches = _chunks(claims) if isinstance(claims, list) else claims
    first_seen: set[str] = set()   # references met in this run (claimer's thread only)
    refusals: dict[str, str] = {}   # references the database refused to claim, and why
    created: set[str] = set()      # order ids this run wrote (the writer threads')

    def claim_round(round_: list[list[OrderClaim]]) -> list[list[tuple[OrderClaim, Claim | None]]]:
        """Each batch with the claim that stands for each of its records (None: refused, and
        reported). A reference's first record in the run gets its claim as it stands (mine:
        claimed just now); a reference met again gets it as an earlier claim, so its order is
        looked for, not written twice."""
        firsts = {}
        for batch in round_:
            for c in batch:
                firsts.setdefault(c.ref, c)
        standing = book.find(firsts)   # references met in earlier rounds: from the book's copy
        fresh = [c for ref, c in firsts.items() if ref not in standing and ref not in first_seen]
        if fresh:
            numbers = ctx.numbers.reserve(ctx.db, len(fresh))   # one counter write per round
            won, refused = book.claim([(c.ref, c.fp, n) for c, n in zip(fresh, numbers)])
            standing.update(won)
            refusals.update(refused)
        out = []
        for batch in round_:
            assigned = []
            for c in batch:
                claim = standing.get(c.ref)
                if claim is None:
                    report.problem(c.record, f"could not claim reference {c.ref}: {refusals.get(c.ref, 'refused')}")
                elif c.ref in first_seen:
                    claim = Claim(claim.number, claim.fingerprint, done=claim.done)
                first_seen.add(c.ref)
                assigned.append((c, claim))
            out.append(assigned)
        return out

    def write(assigned: list[tuple[OrderClaim, Claim | None]]) -> None:
        _write_orders(ctx, assigned, report, created)
        if done:
            done(len(assigned))

    _stages(batches, claim_round, write, ROUND, start=(lambda: book.load(first_refs)) if first_refs else None)


def serial_stages(batches: Iterable[list], claim_round: Callable[[list[list]], list],
                  write: Callable[[list], None], round_size: int, start: Callable[[], None] | None = None) -> None:
    """What _stages does, on the caller's thread, one stage after the other in full rounds: for a
    test that counts on an order of events, and for profiling request by request."""
    if start:
        start()
    waiting = [b for b in batches if b]
    for at in range(0, len(waiting), round_size):
        for claimed in claim_round(waiting[at:at + round_size]):
            write(claimed)


def _stages(batches: Iterable[list], claim_round: Callable[[list[list]], list], write: Callable[[list], None],
            round_size: int, start: Callable[[], None] | None = None) -> None:
    """claim_round(batches waiting, up to round_size) on a claimer thread, then write(each) in
    order on a writer thread, while the caller's thread produces batches (start(): the claimer's
    first work, while the first batch is produced). An error in any stage
    stops them all (what was claimed but not written is finished by the next run) and is raised
    here, once every thread has stopped."""
    to_claim: Queue = Queue(maxsize=2 * round_size)
    to_write: Queue = Queue(maxsize=2 * round_size)
    failed: list[BaseException] = []

    def claimer() -> None:
        ended = False
        try:
            if start:
                start()
            while not ended and not failed:
                item = to_claim.get()
                if item is None:
                    ended = True
                    break
                round_ = [item]
                while len(round_) < round_size:
                    try:
                        item = to_claim.get_nowait()
                    except Empty:
                        break
                    if item is None:
                        ended = True
                        break
                    round_.append(item)
                for claimed in claim_round(round_):
                    to_write.put(claimed)
        except BaseException as exc:   # noqa: BLE001 - raised on the caller's thread
            failed.append(exc)
        finally:
            for _ in range(WRITERS):
                to_write.put(None)
            while not ended and to_claim.get() is not None:   # let the caller finish putting
                pass

    def writer() -> None:
        while (item := to_write.get()) is not None:   # (after a failure: drained, not written)
            if failed:
                continue
            try:
                write(item)
            except BaseException as exc:   # noqa: BLE001 - raised on the caller's thread
                failed.append(exc)

    threads = [threading.Thread(target=claimer, name="import-claimer", daemon=True),
               *(threading.Thread(target=writer, name=f"import-writer-{k}", daemon=True) for k in range(WRITERS))]
    for t in threads:
        t.start()
    try:
        for batch in batches:
            if failed:
                break
            if batch:
                to_claim.put(batch)
    finally:
        to_claim.put(None)
        for t in threads:
            t.join()
    if failed:
        raise failed[0]


def _write_orders(ctx: ImportContext, assigned: list[tuple[OrderClaim, Claim | None]], report: Report,
                  created: set[str]) -> None:
    """Write the orders of one claimed batch: those claimed just now, and those of earlier claims
    whose order is missing; a reference met again in the same batch is decided after the first."""
    now, again, here = [], [], set()
    for c, claim in assigned:
        if claim is None:
            continue
        (again if c.ref in here else now).append((c, claim))
        here.add(c.ref)
    # An earlier claim's order may exist already. Look first: PouchDB Server answers a create
    # over an existing document with the validate_doc_update's 403, not 409 (CouchDB 3 says 409
    # before validating).
    pending = [orders.order_id(cl.number) for _, cl in now
               if not cl.mine and not cl.done and orders.order_id(cl.number) not in created]
    present = {r["key"] for r in ctx.db.all_docs(keys=pending)["rows"] if "error" not in r} if pending else set()
    to_create, claim_of = [], {}
    for c, claim in now:
        oid = orders.order_id(claim.number)
        if not claim.mine and claim.fingerprint != c.fp:
            # (even while its order is missing: the claim stands for other content, and with
            # WRITERS at once the first record's batch may still be on its way)
            report.problem(c.record, f"{c.ref} was imported before as {claim.number} with other content; "
                                     "change that order in Order Desk instead")
            continue
        if not claim.mine and (claim.done or oid in present or oid in created):
            report.count(c.record.kind, "unchanged")
            continue
        try:
            doc = c.build(claim.number)
        except InvalidInput as exc:
            report.problem(c.record, exc.reason)
            continue
        to_create.append(doc)
        claim_of[doc["_id"]] = c
    results = _bulk_results(ctx, to_create)
    # A concurrent run that met the same claim may have written the order a moment ago: CouchDB 3
    # says 409; PouchDB Server validates our create as an update of its order first and refuses
    # it (403). An order that exists now at the claim's number is that run's.
    refused = [doc["_id"] for doc, res in zip(to_create, results) if res.get("error") == "forbidden"]
    written = {r["key"] for r in ctx.db.all_docs(keys=refused)["rows"] if "error" not in r} if refused else set()
    for doc, res in zip(to_create, results):
        c = claim_of[doc["_id"]]
        if res.get("ok"):
            created.add(doc["_id"])
            report.count(c.record.kind, "created")
            report.created.append({"ref": c.ref, "id": doc["_id"], "line": c.record.line})
        elif res.get("error") == "conflict" or doc["_id"] in written:
            report.count(c.record.kind, "unchanged")   # a concurrent run wrote it first
        else:
            report.problem(c.record, res.get("reason") or res.get("error") or "refused")
    if again:
        _write_orders(ctx, [(c, Claim(cl.number, cl.fingerprint, done=cl.done)) for c, cl in again], report, created)


class OrderHandler:
    """New orders (draft or submitted) through the ordinary create rules, once per external_ref."""
    kind = "orders"

    def apply(self, ctx: ImportContext, records: list[Record], report: Report) -> None:
        self.apply_all(ctx, records, report)

    def apply_all(self, ctx: ImportContext, records: list[Record], report: Report,
                  done: Callable[[int], None] | None = None) -> None:
        """All of a file's orders: checked and built batch by batch while the batches before
        are claimed and written (create_claimed)."""
        customers: dict = {}
        asked: set[str] = set()

        def batches():
            for chunk in _chunks(records):
                wanted = {f"customer:{r.data.get('customer')}" for r in chunk
                          if isinstance(r.data.get("customer"), str)} - asked
                if wanted:
                    customers.update(_prefetch(ctx.db, wanted))
                    asked.update(wanted)
                claims, refused = [], 0
                book = products.book(ctx.db, [sku for r in chunk for sku in orders.skus_of(r.data.get("lines"))])
                for rec in chunk:
                    try:
                        data = self.normalize(rec)
                        customer = _customer_from(customers, data.get("customer"))
                        doc = orders.new_order(data, "SO-000000", ctx.access, customer, ctx.clock(), book)
                    except InvalidInput as exc:
                        report.problem(rec, exc.reason)
                        refused += 1
                        continue
                    # Checked and built once; the number it gets is only known after the claim.
                    claims.append(OrderClaim(rec, data["external_ref"], fingerprint("IMPORT", "orders", data),
                                             lambda number, doc=doc: {**doc, "_id": orders.order_id(number),
                                                                      "number": number}))
                if refused and done:
                    done(refused)
                yield claims

        first = [r.data["external_ref"] for r in records[:BATCH] if isinstance(r.data.get("external_ref"), str)]
        create_claimed(ctx, batches(), report, done=done, first_refs=first)

    @staticmethod
    def normalize(rec: Record) -> dict:
        if "__error__" in rec.data:
            raise InvalidInput(rec.data["__error__"])
        data = {k: v for k, v in rec.data.items() if not k.startswith("__")}
        ref = data.get("external_ref")
        if not isinstance(ref, str) or not ref.strip():
            raise InvalidInput("external_ref is required, so that importing the file again creates no duplicate")
        if len(ref) > 100:
            raise InvalidInput("external_ref must be at most 100 characters")
        if "priority" in data and isinstance(data["priority"], str):
            p = data["priority"].strip()
            if not (p.isascii() and p.isdigit()):  # "²".isdigit() is true, int("²") fails
                raise InvalidInput(f"priority must be a whole number from 1 to 5, not {p!r}")
            data["priority"] = int(p)
        return data

def _prefetch(db: Database, ids) -> dict:
    ids = sorted(i for i in ids if i)
    if not ids:
        return {}
    return {r["key"]: r["doc"] for r in db.all_docs(keys=ids, include_docs=True)["rows"] if r.get("doc")}


def _customer_from(cache: dict, ref) -> dict:
    ref_id = ref.get("id") if isinstance(ref, dict) else ref
    if not isinstance(ref_id, str) or not ref_id:
        raise InvalidInput('customer is required, e.g. "C0001"')
    cid = ref_id if ref_id.startswith("customer:") else f"customer:{ref_id}"
    doc = cache.get(cid)
    if not doc or doc.get("type") != "customer":
        raise InvalidInput(f"unknown customer {ref_id!r}")
    return doc


def upsert(ctx: ImportContext, pairs: list[tuple[Record, dict]], report: Report, defaults: dict | None = None) -> None:
    """Write changed documents; a document another writer changed meanwhile (409) is re-read and
    merged once more (the feed's fields win, our own fields such as reserved are kept)."""
    for batch in _chunks(pairs):
        current = _prefetch(ctx.db, {doc["_id"] for _, doc in batch})
        writes = []
        for rec, doc in batch:
            old = current.get(doc["_id"])
            merged = _merge(old, doc, defaults)
            if old is not None and _same(old, merged):
                report.count(rec.kind, "unchanged")
                continue
            writes.append((rec, merged, old is None))
        for attempt in range(3):
            results = _bulk_results(ctx, [d for _, d, _ in writes])
            retry = []
            for (rec, doc, is_new), res in zip(writes, results):
                if res.get("ok"):
                    report.count(rec.kind, "created" if is_new else "updated")
                    if is_new:
                        report.created.append({"ref": rec.ref, "id": doc["_id"], "line": rec.line})
                elif res.get("error") == "conflict" and attempt < 2:
                    retry.append((rec, doc))
                else:
                    report.problem(rec, res.get("reason") or res.get("error") or "refused")
            if not retry:
                break
            fresh = _prefetch(ctx.db, {d["_id"] for _, d in retry})
            writes = [(rec, _merge(fresh.get(d["_id"]), _strip(d), defaults), d["_id"] not in fresh) for rec, d in retry]


def _strip(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "_rev"}


def _merge(old: dict | None, new: dict, defaults: dict | None = None) -> dict:
    """The feed's fields over the current document; fields named in new["__keep__"] keep their
    current value, those in new["__add__"] (objects) add the feed's keys to the current ones (a
    feed that sends a product's EUR price leaves its GBP price); a new document starts from
    `defaults`."""
    keep, add = new.get("__keep__", ()), new.get("__add__", ())
    fields = {k: v for k, v in new.items() if k not in ("_rev", "__keep__", "__add__")}
    if old is None:
        return {**(defaults or {}), **fields}
    merged = {**old, **fields}
    for k in keep:
        if k in old:
            merged[k] = old[k]
    for k in add:
        if isinstance(old.get(k), dict) and k in fields:
            merged[k] = {**old[k], **fields[k]}
    merged["_rev"] = old["_rev"]
    return merged


def _same(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k != "_rev"} == {k: v for k, v in b.items() if k != "_rev"}


class _UpsertHandler:
    """Records that become one document each, upserted by id (customers, stock)."""

    def apply(self, ctx: ImportContext, records: list[Record], report: Report) -> None:
        pairs = []
        for rec in records:
            try:
                pairs.append((rec, self.to_doc(rec.data)))
            except InvalidInput as exc:
                report.problem(rec, exc.reason)
        upsert(ctx, pairs, report, self.defaults())

    @staticmethod
    def defaults() -> dict | None:
        return None


class CustomerHandler(_UpsertHandler):
    """Customer profiles keyed by the CRM's id: `customer:<id>`."""
    kind = "customers"


    @staticmethod
    def to_doc(data: dict) -> dict:
        """The CRM's own reading of a profile (crm.profile_from_input: the same words, the
        same limits as the feeds and the API); an import creates customers, so a name is required."""
        if "__error__" in data:
            raise InvalidInput(data["__error__"])
        doc_id = crm.row_id({"id": data.get("id") or data.get("customer_id")})
        fields = crm.profile_from_input({k: v for k, v in data.items() if k not in ("id", "customer_id")})
        if not fields.get("name") or len(fields["name"]) > 200:
            raise InvalidInput("name is required (at most 200 characters)")
        return {"_id": doc_id, "type": "customer", **fields}

    @staticmethod
    def defaults() -> dict:
        return {"tier": "bronze", "credit_limit_cents": 0, "open_balance_cents": 0, "days_late": 0,
                "contacts": [], "currency": "EUR"}


class StockHandler(_UpsertHandler):
    """Stock levels from the WMS feed: `stock:<SKU>:<WAREHOUSE>`; the feed sets on_hand, our own
    reserved quantity is kept (reservations are decided here, not by the feed)."""
    kind = "stock"


    @staticmethod
    def to_doc(data: dict) -> dict:
        if "__error__" in data:
            raise InvalidInput(data["__error__"])
        sku = str(data.get("sku") or "").strip().upper()
        wh = str(data.get("warehouse") or "").strip().upper()
        if not SKU.match(sku):
            raise InvalidInput('sku must look like "WID-100"')
        if not WAREHOUSE.match(wh):
            raise InvalidInput('warehouse must look like "MAIN"')
        doc = {"_id": f"stock:{sku}:{wh}", "type": "stock", "sku": sku, "warehouse": wh,
               "on_hand": whole_number(data.get("on_hand"), "on_hand"), "reserved": 0, "holds": {},
               "__keep__": ["reserved", "holds"]}  # holds: what each order line reserved
        bin_ = clean_bin(data.get("bin"))
        if bin_:
            doc["bin"] = bin_
        return doc


class ProductHandler(_UpsertHandler):
    """Products keyed by SKU: `product:<SKU>`, read as the Products page and the API read them
    (products.product_from_input); validate_doc_update decides who may change the catalog."""
    kind = "products"

    def apply(self, ctx: ImportContext, records: list[Record], report: Report) -> None:
        super().apply(ctx, records, report)
        memories.forget_catalog(ctx.db.name)   # the orders of the same file are priced with them

    @staticmethod
    def to_doc(data: dict) -> dict:
        if "__error__" in data:
            raise InvalidInput(data["__error__"])
        sku = products.row_sku(data)
        fields = products.product_from_input({k: v for k, v in data.items() if k != "sku"})
        return {"_id": f"product:{sku}", "type": "product", "sku": sku, **fields, "__add__": ["list_prices"]}

    @staticmethod
    def defaults() -> dict:
        return {"unit": "each", "status": "active", "list_prices": {},
                "tax_class": products.pricing.pricing_rules()["default_tax_class"]}


HANDLERS: dict[str, Handler] = {"orders": OrderHandler(), "customers": CustomerHandler(), "products": ProductHandler(),
                                "stock": StockHandler()}


# ---------------------------------------------------------------- running an import
def apply_records(ctx: ImportContext, records: list[Record], report: Report) -> Report:
    total = len(records)
    done = 0
    lock = threading.Lock()

    def advance(n: int) -> None:
        nonlocal done
        with lock:
            done += n
            if ctx.progress:
                ctx.progress(done, total)

    for kind in KINDS:
        mine = [r for r in records if r.kind == kind]
        handler = HANDLERS[kind]
        if hasattr(handler, "apply_all"):   # a handler that batches (and overlaps) by itself
            handler.apply_all(ctx, mine, report, advance)
            continue
        for batch in _chunks(mine):
            handler.apply(ctx, batch, report)
            advance(len(batch))
    kinds = sorted({r.kind for r in records})
    report.kind = report.kind or ",".join(kinds)
    return report


def keep_report(ctx: ImportContext, report: Report) -> None:
    """The report as a document (who imported what, when), like a Notes agent's log."""
    if not ctx.keep_report:
        return
    doc = {"_id": f"importrun:{ctx.clock()}:{uuid.uuid4().hex[:8]}", "type": "import_run", "by": ctx.access.name,
           "at": ctx.clock(), **{k: v for k, v in report.as_dict().items() if k != "report_id"}}
    doc["created"] = doc["created"][:200]
    doc["problems"] = doc["problems"][:500]
    try:
        ctx.db.save(doc)
        report.report_id = doc["_id"]
    except Exception:   # the import itself succeeded; a missing log must not hide that
        pass
