"""Orders placed together are settled together: the credit decisions and stock allocations of every
order this process's people submitted at the same moment are decided in one pass (oms/store/batching.py)
and written in at most five requests, whatever the number of orders:

    the new orders                          one _bulk_docs per person, as that person
    the customers' profiles and the stock   one _all_docs by key (profiles fresh; stock documents
                                            this process read or wrote in the last 2 s come from
                                            its memory, oms/wms/stock.py StockMemory; a SKU short in
                                            the warehouses it knows is re-read over all)
    their credit exposure                   one grouped view query by exact keys, only for the
                                            customers whose exposure this process does not
                                            remember (oms/crm/exposure.py): about once in 2 s
    the stock claims                        one _bulk_docs of stock documents
    the orders                              one _bulk_docs: approve + allocate (or hold_credit)

instead of all of that per order (bench/README.md: a placed order cost 9 requests alone). An
approved order's approval and allocation are one revision with one history entry per step, each
judged as a step of its own by validate_doc_update; every write is the system identity's. What a
pass could not settle (a stock document or an order someone changed meanwhile, a refusal) gives
back what it claimed and falls back to fulfilment.settle for that order alone, which decides
again on fresh reads.

Credit stays fair inside the batch: a customer's orders are decided one after another, each
approved order counted in the exposure the next one sees (as credit_decision's turns do); the pass
holds the credit turns of its customers until its orders are written, and adds its approvals to
the exposure it remembers. A remembered exposure decides only far from the limit (a tenth of it
left, rules/priority.json credit.exposure_memory); nearer, the pass asks the view. Stock never
oversells: the claims are compare-and-swap writes of the stock documents as read or remembered (a
409 voids them, the document is forgotten, and the order claims that much again alone on a fresh
read), written before the orders that name them."""
from __future__ import annotations

import contextlib
import copy
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from oms.core import memories, schema
from oms.core.memories import remember_customer, turn
from oms.crm import customers as crm
from oms.crm import exposure
from oms.ordering import workflow
from oms.ordering.orders import order_problem
from oms.store import cas
from oms.store.batching import Batcher
from oms.store.couch import CouchError, Database
from oms.wms.stock import (
    _answers,
    answer_from_order,
    free_units,
    fullest_first,
    hold,
    hold_key,
    known_stock_keys,
    stock_by_sku,
)

from .handoffs import SystemIdentity, allocation_changes, order_priority, settle

log = logging.getLogger(__name__)

MAX_BATCH = 50
# A pass may wait this long for as many orders as were being placed at once lately (Batcher's
# linger): otherwise busy clients settle into waves that each fill a pass by half. A lone order
# never waits. Why this value: the linger measures in bench/README.md.
LINGER = 0.030
_batchers: dict[tuple, Batcher] = {}
_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """Threads for a pass's independent requests (made on first use: after a server's fork)."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="placement")
        return _executor


def place(order: dict, db: Database, agent: SystemIdentity) -> tuple[dict, list[dict]]:
    """Write a new submitted `order` as the person of `db` and settle it, with the others placed at
    this moment. Returns the order as the hand-offs left it and each line's availability answer
    (what it holds once allocated). Raises what the person's write raised (403, 409)."""
    key = (id(agent.db.server), agent.db.name, agent.access.name)
    with _lock:
        batcher = _batchers.get(key)
        if batcher is None:
            if len(_batchers) > 100:
                _batchers.clear()   # a pass in flight finishes on its own; a new batcher forms
            batcher = _batchers[key] = Batcher(_run, MAX_BATCH, key=lambda item: item[0]["_id"], linger=LINGER)
    return batcher.submit((order, db, agent))


def _run(items: list[tuple[dict, Database, SystemIdentity]]) -> list:
    # The newest caller's agent: the system identity's ACL entry as this process last resolved it.
    return _Pass(items[-1][2], [(order, db) for order, db, _ in items]).run()


class _Pass:
    """One pass over a batch of submitted orders."""

    def __init__(self, agent: SystemIdentity, placed: list[tuple[dict, Database]]):
        self.agent, self.db, self.clock = agent, agent.db, agent.clock
        self.placed = placed
        self.orders = [order for order, _ in placed]   # each order's latest revision as this pass knows it
        self.answers: list[list[dict]] = [[] for _ in placed]
        self.alone: set[int] = set()          # settled one by one afterwards (fulfilment.settle)
        self.claims: dict[int, list[dict]] = {}
        self.refused: dict[int, Exception] = {}   # the person's own write failed: nothing to settle

    def run(self) -> list:
        cids = sorted({o["customer"]["id"] for o in self.orders})
        try:
            with contextlib.ExitStack() as turns:
                for cid in cids:   # sorted: two passes never wait on each other
                    turns.enter_context(turn(f"credit:{cid}"))
                # Three independent requests at once: the people's creates, the credit exposure
                # (of approved orders: the new ones do not count yet) of the customers this
                # process remembers none for (oms/crm/exposure.py), and the profiles and stock.
                remembered = memories.exposure.recall(self.db.name, cids)
                ask = memories.exposure.to_ask(self.db.name, [c for c in cids if c not in remembered])
                created = _pool().submit(self._create)
                asked = _pool().submit(self._exposure, ask) if ask else None
                try:
                    profiles, stock = self._read(cids)
                finally:
                    created.result()
                figures = {**remembered, **(asked.result() if asked else {})}
                # a remembered figure decides only far from the limit; near it, read afresh
                doubtful = [cid for cid in cids if cid not in ask and cid in profiles
                            and not exposure.trusted(profiles[cid], self._placing(cid), figures[cid])]
                if doubtful:
                    figures.update(self._exposure(doubtful))
                decided = self._decide_credit(profiles, figures)
                self._claim(decided, stock)
                self._allocate(decided, profiles)
                self._write(decided)
        except CouchError as exc:
            # The server went away mid-pass: each order rests where it got to, in the queue of the
            # role that owns that state (as fulfilment.settle leaves it).
            memories.exposure.forget(self.db.name, cids)
            log.warning("placement pass of %d orders stopped: %s", len(self.orders), exc.reason)
        out: list = []
        for i, order in enumerate(self.orders):
            if i in self.refused:
                out.append(self.refused[i])
                continue
            if i in self.alone:
                order = settle(order, self.agent)
            answers = [a.as_dict() for a in answer_from_order(order)] if "allocations" in order else self.answers[i]
            out.append((order, answers))
        return out

    def _create(self) -> None:
        """The people's own writes of their new orders: one request per person in the batch."""
        people: dict[tuple, list[int]] = {}
        for i, (_, db) in enumerate(self.placed):
            people.setdefault((db.name, db.svc.authenticator.username), []).append(i)
        for indexes in people.values():
            db = self.placed[indexes[0]][1]
            try:
                saved = db.save_all([self.orders[i] for i in indexes])
            except CouchError as exc:   # (the server away: each of these callers gets the 503)
                self.refused.update(dict.fromkeys(indexes, exc))
                continue
            for i, outcome in zip(indexes, saved):
                if isinstance(outcome, CouchError):
                    self.refused[i] = outcome

    def _read(self, cids: list[str]) -> tuple[dict[str, dict], dict[str, list[dict]]]:
        """The customers' profiles and the stock of every SKU, fresh, in one request by key (the
        warehouses this process knows; a SKU short there is read again over every warehouse)."""
        need: dict[str, int] = {}
        for o in self.orders:
            for l in o["lines"]:
                need[l["sku"]] = need.get(l["sku"], 0) + l["qty"]
        skus = list(need)
        stock_keys = known_stock_keys(skus) or []
        kept = memories.stock.recall(self.db.name, stock_keys)
        rows = self.db.all_docs(keys=cids + [k for k in stock_keys if k not in kept], include_docs=True)["rows"]
        docs = [r.get("doc") for r in rows]
        memories.stock.keep(self.db.name, docs)
        docs += kept.values()
        profiles = {d["_id"]: d for d in docs if d and d.get("type") == "customer"}
        for doc in profiles.values():
            remember_customer(self.db.name, doc)
        stock = stock_by_sku(skus, docs) if stock_keys else {}
        for sku in skus:
            if sku not in stock or free_units(stock[sku]) < need[sku]:
                stock[sku] = self.agent.stock.levels(sku)
                memories.stock.keep(self.db.name, stock[sku])
        for i, o in enumerate(self.orders):   # each order's answer before anything is claimed
            self.answers[i] = [a.as_dict() for a in _answers(o["lines"], stock)]
        return profiles, stock

    def _exposure(self, cids: list[str]) -> dict[str, int]:
        """The customers' exposure from the view, remembered as of the moment it was asked."""
        asked_at = memories.exposure.clock()
        # An order is in its customer's currency (oms/ordering/orders.py), so the batch says it
        # before the profiles are read; a remembered customer that rides along is asked in the
        # currency of its remembered profile, or not at all.
        currency = {o["customer"]["id"]: o.get("currency") or "EUR" for o in self.orders}
        for cid in cids:
            if cid not in currency and (profile := memories.profiles.get((self.db.name, cid))):
                currency[cid] = crm.currency_of(profile)
        figures = crm.exposure_by_customer(self.db, {cid: currency[cid] for cid in cids if cid in currency})
        memories.exposure.store(self.db.name, figures, asked_at)
        return figures

    def _placing(self, cid: str) -> int:
        """What this pass may approve for the customer: its submitted orders together."""
        return sum(exposure.order_value(o) for i, o in enumerate(self.orders)
                   if o["customer"]["id"] == cid and i not in self.refused)

    def _decide_credit(self, profiles: dict[str, dict], figures: dict[str, int]) -> dict[int, dict]:
        """submitted -> approved | credit_hold, each customer's orders in turn, every approval
        counted in the exposure the next order of that customer sees. Returns the decided
        revisions (not yet written) by batch index."""
        auto = crm.credit_rules()["auto_approve_within_limit"]
        me, now = self.agent.access, self.clock()
        decided = {}
        for i, order in enumerate(self.orders):
            if i in self.refused:
                continue
            customer = profiles.get(order["customer"]["id"])
            if order["status"] != "submitted" or customer is None:
                self.alone.add(i)
                continue
            decision = crm.credit_check(customer, exposure.order_value(order), figures[customer["_id"]])
            if decision.ok and not auto:
                continue
            changes = {"credit": decision.record(me.name, now, "auto_approved" if decision.ok else "held"),
                       "priority": order_priority(customer, order, self.clock).value}
            if decision.ok:
                figures[customer["_id"]] += exposure.order_value(order)
                decided[i] = workflow.apply(me, order, "approve", now, changes=changes)
            else:
                decided[i] = workflow.apply(me, order, "hold_credit", now, "Credit check: " + decision.sentence(), changes)
        return decided

    def _claim(self, decided: dict[int, dict], stock: dict[str, list[dict]]) -> None:
        """Claim each approved order's lines on working copies of the stock documents (fullest
        warehouse first, as StockService.claim_line), then write them in one request."""
        working = {sku: [copy.deepcopy(d) for d in ds] for sku, ds in stock.items()}
        touched: dict[str, tuple[dict, list[tuple[int, dict]]]] = {}
        for i, order in decided.items():
            if order["status"] != "approved":
                continue
            claims = self.claims[i] = []
            for line in order["lines"]:
                want = line["qty"]
                for d in fullest_first(working.get(line["sku"], [])):
                    n = hold(d, hold_key(order["number"], line["line"]), want)
                    if n <= 0:
                        break
                    claim = {"line": line["line"], "sku": line["sku"], "warehouse": d["warehouse"], "qty": n}
                    claims.append(claim)
                    touched.setdefault(d["_id"], (d, []))[1].append((i, claim))
                    want -= n
        if not touched:
            return
        now, me = self.clock(), self.agent.access.name
        for d, _ in touched.values():
            d["updated_at"], d["updated_by"] = now, me
        docs = [d for d, _ in touched.values()]
        settled = [d for d in cas.save_all(self.db, docs) if not isinstance(d, CouchError)]
        written = {d["_id"] for d in settled}
        memories.stock.keep(self.db.name, settled)
        memories.stock.forget(self.db.name, touched.keys() - written)
        for doc_id, (_, claims) in touched.items():
            if doc_id in written:
                continue
            # Someone else changed this stock document since it was read (409): the claims on it
            # are void; each order claims that much again alone, on a fresh read (compare-and-swap).
            for i, claim in claims:
                if i in self.alone:
                    continue
                self.claims[i].remove(claim)
                number = self.orders[i]["number"]
                try:
                    self.claims[i] += self.agent.stock.claim_line(number, claim["line"], claim["sku"], claim["qty"])
                except CouchError as exc:
                    log.warning("claim for %s line %s stopped: %s", number, claim["line"], exc.reason)
                    self._give_back(i)
                    del decided[i]   # approved, not allocated: written alone (fulfilment.settle)

    def _allocate(self, decided: dict[int, dict], profiles: dict[str, dict]) -> None:
        """approved -> allocated in the same revision: what each order got, the rest backordered."""
        now = self.clock()
        for i, order in decided.items():
            if order["status"] != "approved":
                continue
            changes = allocation_changes(order, self.claims.get(i, []), profiles[order["customer"]["id"]], self.clock)
            decided[i] = workflow.apply(self.agent.access, order, "allocate", now, changes=changes)

    def _write(self, decided: dict[int, dict]) -> None:
        """The decided revisions in one request. An order whose write failed (someone changed it
        meanwhile, or it was refused) gives back what it claimed and settles alone."""
        for i, doc in list(decided.items()):
            problem = order_problem(doc)
            if problem:
                log.warning("hand-off for %s refused before writing: %s", doc["number"], problem)
                del decided[i]
                self._give_back(i)
        try:
            rows = self.db.bulk(list(decided.values())) if decided else []
        except BaseException:   # claims must not outlive allocations that were never written
            for i in decided:
                self._give_back(i)
            raise
        for (i, doc), row in zip(decided.items(), rows):
            if "error" in row:
                self._give_back(i)
            else:
                doc["_rev"] = row["rev"]
                self.orders[i] = doc
                if doc["status"] != "credit_hold":   # approved: it counts from now on
                    memories.exposure.add(self.db.name, doc["customer"]["id"], exposure.order_value(doc))

    def _give_back(self, i: int) -> None:
        self.agent.stock.undo(self.orders[i]["number"], self.claims.pop(i, []))
        self.alone.add(i)
