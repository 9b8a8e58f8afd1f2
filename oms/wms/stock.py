"""Stock, the WMS link: stock documents per SKU per warehouse (`stock:<SKU>:<WAREHOUSE>` with
on_hand, reserved and holds), availability for a list of lines, and claims that can never
oversell.

How a claim stays safe under any concurrency: it is a write of the stock document carrying the
_rev it was decided on (compare-and-swap). When another claim won meanwhile, CouchDB answers 409
and we read again and decide again; validate_doc_update (lib/validate_stock.js) refuses any
revision with reserved > on_hand, reserved < 0 or reserved != the sum of the holds, whoever
writes. The decision happens on the central database only (docs/architecture.md): partner and offline
copies never write stock.

On a CouchDB 3 cluster two writes decided on the same _rev can both be taken, by different
copies; the compare-and-swap goes through oms/store/cas.py, which counts a claim only once it is
settled on every copy, and makes the losing claim decide again as a 409 would.

holds names who holds the reserved units: {"SO-000123/1": 5} = line 1 of SO-000123 holds 5. An
order records the same in its allocations (cumulative per line and warehouse) minus what it
shipped, so the books can be audited (audit())."""
from __future__ import annotations

import copy
import logging
import random
import time
from dataclasses import dataclass

from oms.core import memories, schema
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.inputs import optional_text
from oms.core.memories import turn
from oms.identity.acl import Access
from oms.store import cas
from oms.store.couch import Conflict, Database, NotFound

log = logging.getLogger(__name__)

SKU = schema.pattern("stock", "sku")
WAREHOUSE = schema.pattern("stock", "warehouse")
DEFAULT_WAREHOUSE = "MAIN"
DESCRIPTION_MAX = 500
MAX_ATTEMPTS = 400           # a claim re-decides at most this often before answering 409 ...
MAX_SECONDS = 30.0           # ... or after this long

# Threads of one process take turns per stock document (oms/core/memories.py: turn); processes and servers
# still race, and the compare-and-swap settles that. The turn is a courtesy that saves round
# trips, never what keeps stock from overselling.


def stock_id(sku: str, warehouse: str) -> str:
    return f"stock:{sku}:{warehouse}"


def hold_key(number: str, line: int) -> str:
    return f"{number}/{line}"


def clean_sku(value, where: str = "sku") -> str:
    sku = value.strip().upper() if isinstance(value, str) else ""   # 5 is not the SKU "5"
    if not SKU.match(sku):
        raise InvalidInput(f'{where} must be a SKU like "WID-100", not {value!r}')
    return sku


def clean_bin(value) -> str | None:
    """Where a SKU lies in a warehouse ("A-12-3"): the pick list walks the bins in order."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip() if isinstance(value, str) else ""
    if not schema.pattern("stock", "bin").fullmatch(text):
        raise InvalidInput(f'bin must be a place like "A-12-3" (letters, digits, - . / and spaces, up to 20), not {value!r}')
    return text


def clean_warehouse(value, where: str = "warehouse") -> str:
    wh = value.strip().upper() if isinstance(value, str) else ""
    if not WAREHOUSE.match(wh):
        raise InvalidInput(f'{where} must be a warehouse code like "MAIN", not {value!r}')
    return wh


def known_stock_keys(skus: list[str]) -> list[str] | None:
    """The ids of the SKUs' stock documents in the warehouses this process has seen, or None when
    it knows none (or too many to ask by key)."""
    warehouses = memories.warehouses.known()
    if not warehouses or len(warehouses) * len(skus) > MAX_KEYS:
        return None
    return [stock_id(sku, wh) for sku in skus for wh in warehouses]


def stock_by_sku(skus: list[str], docs) -> dict[str, list[dict]]:
    """The stock documents among `docs` (None for a missing one), by SKU."""
    out: dict[str, list[dict]] = {sku: [] for sku in skus}
    for doc in docs:
        if doc and doc.get("type") == "stock" and doc["sku"] in out:
            out[doc["sku"]].append(doc)
    return out


def available(doc: dict) -> int:
    return doc["on_hand"] - doc["reserved"]


def fullest_first(docs: list[dict]) -> list[dict]:
    """A SKU's stock documents in the order claims take them (fewest splits)."""
    return sorted(docs, key=lambda d: (-available(d), d["warehouse"]))


def hold(doc: dict, key: str, want: int) -> int:
    """Hold up to `want` free units of this stock document for `key` (in the document); returns
    how many (0 when none is free)."""
    n = min(want, available(doc))
    if n > 0:
        doc["holds"][key] = doc["holds"].get(key, 0) + n
        doc["reserved"] += n
    return max(n, 0)


def free_units(docs: list[dict]) -> int:
    return sum(max(0, available(d)) for d in docs)


MAX_KEYS = 200   # stock ids asked for in one _all_docs by keys (SKUs x known warehouses)



# -- availability (pure) -------------------------------------------------------------------------
@dataclass(frozen=True)
class LineAnswer:
    """The answer for one line at placement: can it be served now, partly, or must it wait?"""
    line: int
    sku: str
    qty: int
    available: int          # units this line can have now (after the lines before it)
    known: bool = True      # the warehouse knows the SKU
    reserved: bool = False  # the units are held for the order (it was allocated)

    @property
    def backorder(self) -> int:
        return self.qty - self.available

    @property
    def status(self) -> str:
        if self.available >= self.qty:
            return "available"
        return "partial" if self.available > 0 else "backorder"

    def as_dict(self) -> dict:
        return {"line": self.line, "sku": self.sku, "qty": self.qty, "status": self.status,
                "available": self.available, "backorder": self.backorder, "known": self.known,
                "reserved": self.reserved}


def answer_lines(lines: list[dict], free: dict[str, int], known: set[str] | None = None) -> list[LineAnswer]:
    """Availability of `lines` ([{line, sku, qty}]) given the free units per SKU: lines that share
    a SKU share its stock, first line first."""
    left = dict(free)
    out = []
    for i, l in enumerate(lines):
        n = max(0, min(l["qty"], left.get(l["sku"], 0)))
        left[l["sku"]] = left.get(l["sku"], 0) - n
        out.append(LineAnswer(l.get("line", i + 1), l["sku"], l["qty"], n,
                              known=(known is None or l["sku"] in known)))
    return out


def _answers(lines: list[dict], docs_by_sku: dict[str, list[dict]]) -> list[LineAnswer]:
    return answer_lines(lines, {sku: free_units(docs) for sku, docs in docs_by_sku.items()},
                        {sku for sku, docs in docs_by_sku.items() if docs})


def answer_from_order(order: dict) -> list[LineAnswer]:
    """The answer once an order was allocated: what it holds, per line."""
    alloc = allocated_by_line(order)
    return [LineAnswer(l["line"], l["sku"], l["qty"], min(l["qty"], alloc.get(l["line"], 0)), reserved=True)
            for l in order["lines"]]


# -- what an order holds (pure) ------------------------------------------------------------------
def allocated_by_line(order: dict) -> dict[int, int]:
    out: dict[int, int] = {}
    for a in order.get("allocations") or ():
        out[a["line"]] = out.get(a["line"], 0) + a["qty"]
    return out


def shipped_at(order: dict) -> dict[tuple[int, str], int]:
    """(line, warehouse) -> units shipped, from the order's shipment records."""
    out: dict[tuple[int, str], int] = {}
    for s in order.get("shipped") or ():
        for l in s.get("lines", ()):
            key = (l["line"], s["warehouse"])
            out[key] = out.get(key, 0) + l["qty"]
    return out


def held(order: dict) -> list[dict]:
    """What the order holds in each warehouse now: allocated minus shipped, per line and warehouse
    ([{line, sku, warehouse, qty}] with qty > 0). Equals the holds on the stock documents."""
    gone = shipped_at(order)
    out = []
    for a in order.get("allocations") or ():
        q = a["qty"] - gone.get((a["line"], a["warehouse"]), 0)
        if q > 0:
            out.append({"line": a["line"], "sku": a["sku"], "warehouse": a["warehouse"], "qty": q})
    return out


def merge_allocations(current: list[dict] | None, claims: list[dict]) -> list[dict]:
    """Add claims [{line, sku, warehouse, qty}] to allocations, one entry per line and warehouse."""
    out = [dict(a) for a in current or ()]
    for c in claims:
        same = next((a for a in out if a["line"] == c["line"] and a["warehouse"] == c["warehouse"]), None)
        if same:
            same["qty"] += c["qty"]
        else:
            out.append({"line": c["line"], "sku": c["sku"], "warehouse": c["warehouse"], "qty": c["qty"]})
    return sorted(out, key=lambda a: (a["line"], a["warehouse"]))


class _Skip(Exception):
    """Raised by a change function: nothing to write."""


# -- the service ---------------------------------------------------------------------------------
class StockService:
    """Stock as one identity: a Warehouse person, a Manager, or the system identity running a
    hand-off (allocation on approval, allocation of backorders on receipt, release, consumption)."""

    def __init__(self, db: Database, access: Access, clock=utcnow, sleep=time.sleep,
                 rnd: random.Random | None = None):
        self.db, self.access, self.clock, self.sleep = db, access, clock, sleep
        self.rnd = rnd or random.Random()
        self.retries = 0  # 409s met (for the bench)

    # reading
    def levels(self, sku: str) -> list[dict]:
        """The SKU's stock documents, one per warehouse (a key range of _all_docs: always fresh,
        no index to wait for, cheap enough to ask on every keystroke)."""
        res = self.db.all_docs(start_key=f"stock:{sku}:", end_key=f"stock:{sku}:\ufff0", include_docs=True)
        docs = [r["doc"] for r in res["rows"] if r.get("doc") and r["doc"].get("type") == "stock"]
        memories.warehouses.saw(d["warehouse"] for d in docs)
        return docs

    def levels_in_known_warehouses(self, skus: list[str]) -> dict[str, list[dict]] | None:
        """The SKUs' stock documents in the warehouses this process has seen, in ONE request
        (_all_docs by keys), or None when it knows none (or too many to ask this way). May miss a
        warehouse new since, so it can only undercount: callers re-read a short SKU by range."""
        keys = known_stock_keys(skus)
        if keys is None:
            return None
        return stock_by_sku(skus, (r.get("doc") for r in self.db.all_docs(keys=keys, include_docs=True)["rows"]))

    def availability(self, lines: list[dict]) -> list[LineAnswer]:
        """Each line's answer at placement. Asks the warehouses this process knows in one request;
        a SKU that comes out short there is read again over every warehouse (exact), so a new
        warehouse is never missed when it matters."""
        skus = list(dict.fromkeys(l["sku"] for l in lines))
        found = self.levels_in_known_warehouses(skus) or {}
        short = set(skus) - set(found)
        if found:
            short |= {a.sku for a in _answers(lines, found) if a.status != "available"}
        for sku in short:
            found[sku] = self.levels(sku)
        return _answers(lines, found)

    def page(self, after: list | None = None, limit: int = 50) -> tuple[list[dict], list | None]:
        """Stock rows by [sku, warehouse], a page at a time by key."""
        opts = {"start_key": after} if after else {}
        res = self.db.view("oms", "stock_by_sku", limit=limit + 2, **opts)
        rows = [r for r in res["rows"] if r["key"] != after]
        more = len(rows) > limit
        rows = rows[:limit]
        return [r["value"] for r in rows], (rows[-1]["key"] if more and rows else None)

    # the compare-and-swap loop every stock write goes through
    def _cas(self, sku: str, warehouse: str, change, create: bool = False, first: dict | None = None):
        """Read the stock document, let `change(doc)` decide (mutating doc, returning a result, or
        raising _Skip), write it with the _rev it read. On 409 someone else won: back off a
        random moment and decide again on the new revision. `first`: the document as the caller
        read it moments ago, tried first instead of reading it again (a stale one costs a 409)."""
        with turn(stock_id(sku, warehouse)):
            return self._cas_unlocked(sku, warehouse, change, create, first)

    def _cas_unlocked(self, sku, warehouse, change, create, first=None):
        # Every rule lib/validate_stock.js checks is about the new revision alone, so a write
        # decided on a stale revision is never refused (403) before CouchDB sees it is stale
        # (PouchDB Server validates against the current revision first): it always gets the 409.
        doc_id = stock_id(sku, warehouse)
        deadline = time.monotonic() + MAX_SECONDS
        for attempt in range(MAX_ATTEMPTS):
            doc = copy.deepcopy(first) if attempt == 0 and first is not None else self.db.get_or_none(doc_id)
            if doc is None:
                if not create:
                    raise NotFound(f"no stock of {sku} at {warehouse}")
                doc = {"_id": doc_id, "type": "stock", "sku": sku, "warehouse": warehouse,
                       "on_hand": 0, "reserved": 0, "holds": {}}
            doc.setdefault("holds", {})
            try:
                result = change(doc)
            except _Skip as skip:
                return skip.args[0] if skip.args else None
            doc["updated_at"], doc["updated_by"] = self.clock(), self.access.name
            problem = schema.check(doc, "stock")
            if problem:  # e.g. on_hand past its maximum: the client's mistake (400), not a refusal (403)
                raise InvalidInput(f"{sku} at {warehouse}: {problem}")
            try:
                memories.stock.keep(self.db.name, [cas.save(self.db, doc)])
                return result
            except Conflict:
                memories.stock.forget(self.db.name, [doc_id])
                self.retries += 1
                if time.monotonic() > deadline:
                    break
                # Full jitter, growing with the attempt: racing claims spread out instead of
                # colliding again in lock-step.
                self.sleep(self.rnd.uniform(0, min(0.05, 0.002 * 2 ** min(attempt, 5))))
        raise Conflict(f"the stock of {sku} at {warehouse} is too busy right now; try again")

    # WMS side: counts and receipts
    def set_count(self, sku: str, warehouse: str, on_hand: int, description: str | None = None,
                  bin: str | None = None) -> dict:
        """Set on_hand from a stock count (the WMS feed), and the bin it lies in when given.
        Refused below what is reserved."""
        sku, warehouse = clean_sku(sku), clean_warehouse(warehouse)
        description = optional_text(description, "description", DESCRIPTION_MAX)
        bin = clean_bin(bin)
        if isinstance(on_hand, bool) or not isinstance(on_hand, int) or on_hand < 0:
            raise InvalidInput(f"on_hand must be a whole number from 0, not {on_hand!r}")

        def change(doc):
            if on_hand < doc["reserved"]:
                raise InvalidInput(f"{sku} at {warehouse}: on_hand {on_hand} is below the {doc['reserved']} units "
                                   "reserved for orders; ship or release them first")
            if (doc["on_hand"] == on_hand and (description is None or doc.get("description") == description)
                    and (bin is None or doc.get("bin") == bin)):
                raise _Skip(doc)
            doc["on_hand"] = on_hand
            if description is not None:
                doc["description"] = description
            if bin is not None:
                doc["bin"] = bin
            return doc
        return self._cas(sku, warehouse, change, create=True)

    def receive(self, sku: str, warehouse: str, qty: int, description: str | None = None) -> dict:
        """A receipt: qty more units on hand (the caller then allocates backorders)."""
        sku, warehouse = clean_sku(sku), clean_warehouse(warehouse)
        description = optional_text(description, "description", DESCRIPTION_MAX)
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            raise InvalidInput(f"a receipt needs a quantity, a whole number from 1, not {qty!r}")

        def change(doc):
            doc["on_hand"] += qty
            if description and not doc.get("description"):
                doc["description"] = description
            return doc
        return self._cas(sku, warehouse, change, create=True)

    # order side: claims, releases, consumption
    def claim(self, sku: str, warehouse: str, key: str, want: int, first: dict | None = None) -> int:
        """Hold up to `want` free units for `key`; returns how many it got (0 when none is free).
        `first`: the stock document as just read, if the caller has it."""
        def change(doc):
            n = hold(doc, key, want)
            if n <= 0:
                raise _Skip(0)
            return n
        try:
            return self._cas(sku, warehouse, change, first=first)
        except NotFound:
            return 0

    def give_back(self, sku: str, warehouse: str, key: str, qty: int) -> int:
        """Release up to qty units held by `key`; returns how many were released."""
        def change(doc):
            n = min(qty, doc["holds"].get(key, 0))
            if n <= 0:
                raise _Skip(0)
            _reduce_hold(doc, key, n)
            return n
        try:
            return self._cas(sku, warehouse, change)
        except NotFound:
            return 0

    def consume(self, sku: str, warehouse: str, key: str, qty: int) -> int:
        """Shipped: qty units held by `key` leave the warehouse (on_hand and the hold go down)."""
        def change(doc):
            n = min(qty, doc["holds"].get(key, 0))
            if n <= 0:
                raise _Skip(0)
            _reduce_hold(doc, key, n)
            doc["on_hand"] -= n
            return n
        return self._cas(sku, warehouse, change)

    def claim_line(self, number: str, line: int, sku: str, want: int) -> list[dict]:
        """Claim up to `want` units for an order line over the SKU's warehouses, fullest first
        (fewest splits). Returns the claims made [{line, sku, warehouse, qty}]. Each claim decides
        on the current revision (the one just read; a stale one costs a 409 and a re-read)."""
        got = []
        for d in fullest_first(self.levels(sku)):
            if want <= 0:
                break
            n = self.claim(sku, d["warehouse"], hold_key(number, line), want, first=d) if available(d) > 0 else 0
            if n:
                got.append({"line": line, "sku": sku, "warehouse": d["warehouse"], "qty": n})
                want -= n
        return got

    def undo(self, number: str, claims: list[dict]) -> None:
        """Give back claims that did not make it onto the order (best effort; audit() shows any
        that could not be given back)."""
        for c in claims:
            try:
                self.give_back(c["sku"], c["warehouse"], hold_key(number, c["line"]), c["qty"])
            except Exception:  # noqa: BLE001 - keep undoing the others; the books show the rest
                log.exception("could not give back %s x %s at %s for %s", c["qty"], c["sku"], c["warehouse"], number)

    def release_order(self, order: dict) -> list[dict]:
        """Give back everything the order holds (cancel, reject, amend)."""
        out = []
        for h in held(order):
            n = self.give_back(h["sku"], h["warehouse"], hold_key(order["number"], h["line"]), h["qty"])
            if n:
                out.append({**h, "qty": n})
        return out

    # the books
    def audit(self, sku: str, orders: list[dict]) -> list[str]:
        """Problems with the SKU's numbers (empty when they add up): each stock document's reserved
        equals its holds, and each hold equals what its order holds there (`orders`: the orders
        named in the holds)."""
        problems = []
        by_number = {o["number"]: o for o in orders}
        for doc in self.levels(sku):
            if doc["reserved"] != sum(doc["holds"].values()):
                problems.append(f"{doc['_id']}: reserved {doc['reserved']} != sum of holds {sum(doc['holds'].values())}")
            if not 0 <= doc["reserved"] <= doc["on_hand"]:
                problems.append(f"{doc['_id']}: reserved {doc['reserved']} outside 0..on_hand {doc['on_hand']}")
            for key, qty in doc["holds"].items():
                number, line = key.rsplit("/", 1)
                order = by_number.get(number)
                want = sum(h["qty"] for h in held(order) if h["line"] == int(line) and h["warehouse"] == doc["warehouse"]) if order else 0
                if want != qty:
                    problems.append(f"{doc['_id']}: hold {key} is {qty} but the order holds {want}")
            for order in orders:
                for h in held(order):
                    key = hold_key(order["number"], h["line"])
                    if h["sku"] == sku and h["warehouse"] == doc["warehouse"] and key not in doc["holds"]:
                        problems.append(f"{doc['_id']}: {order['number']} line {h['line']} holds {h['qty']} with no hold here")
        return problems


def _reduce_hold(doc: dict, key: str, n: int) -> None:
    left = doc["holds"][key] - n
    if left:
        doc["holds"][key] = left
    else:
        del doc["holds"][key]
    doc["reserved"] -= n
