"""Import orders, customers and stock from CSV, JSON or XML files (docs/import-export.md).

- The whole file is parsed first: a malformed or hostile file (XML with a DTD, entities or
  external references) is refused with a clear error and NOTHING is written.
- Then each record is checked and written in batches (_bulk_docs): the good ones go in; each bad
  one is reported with the line it starts on and the reason (ours or validate_doc_update's).
- Re-running the same file creates no duplicates: an order is claimed by its external reference
  (a document `idem:<sha256(ref)>` holding the order number reserved for it, written before the
  order with a conflicting write), customers and stock are upserts keyed by their external ids.
- Writes go to CouchDB as the importing identity (a person on the web, the system identity
  oms-agent on the command line), never as the CouchDB admin.

Records are handled by a small registry (HANDLERS) so richer handlers (the CRM/WMS modules)
can replace the minimal customer and stock upserts here: register("customers", handler)."""
from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Protocol

from . import orders
from .import_formats import (CUSTOMER_COLUMNS, KINDS, ORDER_COLUMNS, STOCK_COLUMNS, ImportRefused, Record,  # noqa: F401
                             format_from_mimetype, format_from_name, infer_kind, read_csv, read_json, read_records)
from .acl import Access
from .couch import Database
from .errors import InvalidInput
from .idempotency import Idempotency, Outcome, fingerprint, record_id
from .numbers import NumberAllocator

BATCH = 200


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

    def count(self, kind: str, what: str, n: int = 1) -> None:
        self.counts[what] += n
        self.by_kind.setdefault(kind, Counter())[what] += n

    def problem(self, rec: Record, reason: str) -> None:
        self.problems.append(Problem(rec.line, reason, rec.ref, rec.kind))
        self.count(rec.kind, "failed")

    def as_dict(self) -> dict:
        out = {"kind": self.kind, "format": self.format, "filename": self.filename,
               "counts": {k: self.counts.get(k, 0) for k in ("created", "updated", "unchanged", "failed")},
               "by_kind": {k: dict(v) for k, v in self.by_kind.items()},
               "problems": [{"line": p.line, "ref": p.ref, "kind": p.kind, "reason": p.reason}
                            for p in sorted(self.problems, key=lambda p: p.line)],
               "created": self.created[:1000], "report_id": self.report_id}
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
    clock: Callable[[], str] = orders.utcnow
    progress: Callable[[int, int], None] | None = None   # (records done, records in all)
    keep_report: bool = True
    directory: object | None = None   # oms.directory.Directory: Notes names -> our people (DXL)


# ---------------------------------------------------------------- reading files
def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- the handlers
class Handler(Protocol):
    kind: str

    def apply(self, ctx: ImportContext, records: list[Record], report: Report) -> None: ...


def _bulk_results(ctx: ImportContext, docs: list[dict]) -> list[dict]:
    return ctx.db.bulk(docs) if docs else []


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


def create_claimed(ctx: ImportContext, claims: list[OrderClaim], report: Report, kind: str = "orders") -> None:
    """Claim each reference (idem:<hash> holding the reserved number) and create its order once.
    Claims and orders are written with _bulk_docs; a claim that loses (409) means another import
    of the same reference is running or ran: its order is used, not a second one. A reference is
    done when its claim's order exists (a run that stopped between the two writes is finished by
    the next run); the same reference with other content is reported, never applied."""
    for batch in _chunks(claims):
        ids = [record_id("ref", kind, c.ref) for c in batch]
        existing = {r["key"]: r.get("doc") for r in ctx.db.all_docs(keys=ids, include_docs=True)["rows"]
                    if r.get("doc")}
        earlier = set(existing)   # claimed by an earlier (or concurrent) run
        fresh = [(c, i) for c, i in zip(batch, ids) if i not in existing]
        if fresh:
            numbers = ctx.numbers.reserve(ctx.db, len(fresh))   # one counter write per batch
            new_claims = [{"_id": i, "type": "idem", "scope": "ref", "by": ctx.access.name, "fingerprint": c.fp,
                           "reserved": {"number": number}, "at": ctx.clock()} for (c, i), number in zip(fresh, numbers)]
            for doc, res in zip(new_claims, _bulk_results(ctx, new_claims)):
                if res.get("ok"):
                    existing[doc["_id"]] = dict(doc, _rev=res["rev"])
                elif res.get("error") == "conflict":
                    existing[doc["_id"]] = ctx.db.get(doc["_id"])
                    earlier.add(doc["_id"])
                else:
                    existing[doc["_id"]] = {"__error__": res.get("reason") or res.get("error")}
        # An earlier claim's order may exist already. Look first: PouchDB Server answers a create
        # over an existing document with the validate_doc_update's 403, not 409 (CouchDB 3 says
        # 409 before validating).
        pending = [orders.order_id(existing[i]["reserved"]["number"]) for i in earlier
                   if "__error__" not in existing[i] and not existing[i].get("response")]
        present = {r["key"] for r in ctx.db.all_docs(keys=pending)["rows"] if "error" not in r} if pending else set()
        to_create, claim_of = [], {}
        for c, i in zip(batch, ids):
            claim = existing[i]
            if "__error__" in claim:
                report.problem(c.record, f"could not claim reference {c.ref}: {claim['__error__']}")
                continue
            number = claim["reserved"]["number"]
            if claim.get("response") or orders.order_id(number) in present:
                if claim["fingerprint"] != c.fp:
                    report.problem(c.record, f"{c.ref} was imported before as {number} with other content; "
                                             "change that order in Order Desk instead")
                else:
                    report.count(c.record.kind, "unchanged")
                continue
            try:
                doc = c.build(number)
            except InvalidInput as exc:
                report.problem(c.record, exc.reason)
                continue
            to_create.append(doc)
            claim_of[doc["_id"]] = c
        for doc, res in zip(to_create, _bulk_results(ctx, to_create)):
            c = claim_of[doc["_id"]]
            if res.get("ok"):
                report.count(c.record.kind, "created")
                report.created.append({"ref": c.ref, "id": doc["_id"], "line": c.record.line})
            elif res.get("error") == "conflict":
                report.count(c.record.kind, "unchanged")   # a concurrent run wrote it first
            else:
                report.problem(c.record, res.get("reason") or res.get("error") or "refused")


class OrderHandler:
    """New orders (draft or submitted) through the ordinary create rules, once per external_ref."""
    kind = "orders"

    def apply(self, ctx: ImportContext, records: list[Record], report: Report) -> None:
        customers = _prefetch(ctx.db, {f"customer:{r.data.get('customer')}" if isinstance(r.data.get("customer"), str)
                                       else "" for r in records})
        claims = []
        for rec in records:
            try:
                data = self.normalize(rec)
                customer = _customer_from(customers, data.get("customer"))
                doc = orders.new_order(data, "SO-000000", ctx.access, customer, ctx.clock())
            except InvalidInput as exc:
                report.problem(rec, exc.reason)
                continue
            # Checked and built once; the number it gets is only known after the claim.
            claims.append(OrderClaim(rec, data["external_ref"], fingerprint("IMPORT", "orders", data),
                                     lambda number, doc=doc: {**doc, "_id": orders.order_id(number), "number": number}))
        create_claimed(ctx, claims, report)

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


def _upsert(ctx: ImportContext, pairs: list[tuple[Record, dict]], report: Report, defaults: dict | None = None) -> None:
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
    current value; a new document starts from `defaults`."""
    keep = new.get("__keep__", ())
    fields = {k: v for k, v in new.items() if k not in ("_rev", "__keep__")}
    if old is None:
        return {**(defaults or {}), **fields}
    merged = {**old, **fields}
    for k in keep:
        if k in old:
            merged[k] = old[k]
    merged["_rev"] = old["_rev"]
    return merged


def _same(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k != "_rev"} == {k: v for k, v in b.items() if k != "_rev"}


TIERS = ("gold", "silver", "bronze")


def _amount(value, where: str) -> int:
    return orders.to_cents(value, where)


def _whole(value, where: str, low: int = 0) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{where} must be a whole number from {low}")
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(f"{where} must be a whole number from {low}, not {value!r}") from None
    if n < low:
        raise InvalidInput(f"{where} must be a whole number from {low}, not {n}")
    return n


def _flag(value) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y", "x")


class _UpsertHandler:
    """Records that become one document each, upserted by id (customers, stock)."""

    def apply(self, ctx: ImportContext, records: list[Record], report: Report) -> None:
        pairs = []
        for rec in records:
            try:
                pairs.append((rec, self.to_doc(rec.data)))
            except InvalidInput as exc:
                report.problem(rec, exc.reason)
        _upsert(ctx, pairs, report, self.defaults())

    @staticmethod
    def defaults() -> dict | None:
        return None


class CustomerHandler(_UpsertHandler):
    """Customer profiles keyed by the CRM's id: `customer:<id>` (shape: the brief's contract)."""
    kind = "customers"


    @staticmethod
    def to_doc(data: dict) -> dict:
        if "__error__" in data:
            raise InvalidInput(data["__error__"])
        cid = str(data.get("id") or data.get("customer_id") or "").strip()
        if cid.startswith("customer:"):
            cid = cid[9:]
        if not orders._CUSTOMER_REF.match(cid) or not cid:
            raise InvalidInput('id must be a customer id like "C0001" (letters, digits, . _ -)')
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 200:
            raise InvalidInput("name is required (at most 200 characters)")
        doc = {"_id": f"customer:{cid}", "type": "customer", "name": name}
        tier = str(data.get("tier") or "").strip().lower()
        if tier:
            if tier not in TIERS:
                raise InvalidInput(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
            doc["tier"] = tier
        if data.get("currency"):
            cur = str(data["currency"]).strip().upper()
            if len(cur) != 3 or not cur.isalpha():
                raise InvalidInput(f'currency must be 3 letters like "EUR", not {data["currency"]!r}')
            doc["currency"] = cur
        if data.get("credit_limit") not in (None, ""):
            doc["credit_limit_cents"] = _amount(data["credit_limit"], "credit_limit")
        if data.get("open_balance") not in (None, ""):
            doc["open_balance_cents"] = _amount(data["open_balance"], "open_balance")
        if data.get("days_late") not in (None, ""):
            doc["days_late"] = _whole(data["days_late"], "days_late")
        if data.get("partner"):
            doc["partner"] = str(data["partner"]).strip()
        if data.get("credit_hold") not in (None, ""):
            doc["credit_hold"] = data["credit_hold"] if isinstance(data["credit_hold"], bool) else _flag(data["credit_hold"])
        contacts = data.get("contacts")
        if contacts is None and any(data.get(k) for k in ("contact_name", "contact_email", "contact_phone")):
            contacts = [{k[8:]: data[k] for k in ("contact_name", "contact_email", "contact_phone") if data.get(k)}]
        if contacts is not None:
            if not isinstance(contacts, list) or not all(isinstance(c, dict) for c in contacts):
                raise InvalidInput("contacts must be a list of {name, email, phone}")
            doc["contacts"] = contacts
        return doc

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
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9._-]{0,39}", sku):
            raise InvalidInput('sku must look like "WID-100"')
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9._-]{0,19}", wh):
            raise InvalidInput('warehouse must look like "MAIN"')
        return {"_id": f"stock:{sku}:{wh}", "type": "stock", "sku": sku, "warehouse": wh,
                "on_hand": _whole(data.get("on_hand"), "on_hand"), "reserved": 0, "holds": {},
                "__keep__": ["reserved", "holds"]}  # holds: what each order line reserved (issue 4)


HANDLERS: dict[str, Handler] = {"orders": OrderHandler(), "customers": CustomerHandler(), "stock": StockHandler()}


def register(kind: str, handler: Handler) -> None:
    """Swap in a richer handler for a kind (e.g. the CRM's customer upsert)."""
    HANDLERS[kind] = handler


# ---------------------------------------------------------------- running an import
def apply_records(ctx: ImportContext, records: list[Record], report: Report) -> Report:
    total = len(records)
    done = 0
    for kind in KINDS:
        mine = [r for r in records if r.kind == kind]
        for batch in _chunks(mine):
            HANDLERS[kind].apply(ctx, batch, report)
            done += len(batch)
            if ctx.progress:
                ctx.progress(done, total)
    kinds = sorted({r.kind for r in records})
    report.kind = report.kind or ",".join(kinds)
    return report


def import_bytes(ctx: ImportContext, data: bytes, fmt: str, kind: str | None = None,
                 filename: str = "") -> Report:
    """Import one file's bytes. Raises ImportRefused (nothing written) for an unreadable file."""
    if fmt == "dxl":
        from . import dxl
        return dxl.import_dxl(ctx, data, filename=filename)
    records = read_records(data, fmt, kind)
    report = Report(format=fmt, kind=kind or "", filename=filename)
    apply_records(ctx, records, report)
    keep_report(ctx, report)
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


def import_once(ctx: ImportContext, data: bytes, fmt: str, kind: str | None, key: str, fp: str) -> Report:
    """An API import with an Idempotency-Key: a retry returns the first report."""
    def perform(_reserved) -> Outcome:
        return Outcome(200, import_bytes(ctx, data, fmt, kind, filename="api upload").as_dict())

    outcome = Idempotency(ctx.db, ctx.access.name, ctx.clock).run(key, fp, reserve=dict, perform=perform)
    return _StoredReport(outcome.body)


class _StoredReport:
    def __init__(self, body: dict):
        self.body = body

    def as_dict(self) -> dict:
        return self.body
