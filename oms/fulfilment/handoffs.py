"""Orders with their CRM and WMS links: the hand-offs that run when an order lands in a state.

A person's action is written as that person (OrderService); then the automatic hand-offs run as
the system identity (oms.identity.people.as_system, an ordinary ACL entry, never the CouchDB admin):

    submitted  -> credit check: approve within the limit, else credit_hold with the reason
    approved   -> allocate: claim stock line by line, backorder the rest (transition allocate)
    cancel / reject_credit / amend -> give back what the order holds
    stock received -> allocate waiting backorders, most urgent first, then oldest

An order placed as submitted is written and settled with the others placed at the same moment, in
one pass (oms/fulfilment/placement.py), which falls back to settle() here for what it could not do.

A hand-off that fails (database away, a 409 it could not win) leaves the order where the person
put it, in the queue of the role that owns that state: nothing is half-written, and a person or
a later run picks it up. Order writes by hand-offs carry the revision they decided on, so a
concurrent change makes them re-read (409), never overwrite."""
from __future__ import annotations

import copy
import logging
import random
import time
from dataclasses import dataclass, field

from oms.core import memories
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.memories import turn
from oms.crm import customers as crm
from oms.identity.acl import Access
from oms.ordering import workflow
from oms.ordering.orders import OrderService, order_id, order_problem
from oms.store import cas
from oms.store.couch import Conflict, CouchError, Database, NotFound
from oms.store.numbers import NumberAllocator
from oms.wms.stock import StockService, free_units, fullest_first, hold, hold_key, merge_allocations, stock_id

log = logging.getLogger(__name__)

# Actions after which the order holds nothing: the person's write clears allocations and
# backorders (each of these transitions `sets` them), then the system gives the stock back.
RELEASING = ("cancel", "reject_credit")  # amend() gives back what it held itself


def backorder_states() -> list[str]:
    """Where an order may still receive stock for its backorders: the allocate_backorders
    transition's `from` (rules/workflow.json)."""
    return workflow.transition("allocate_backorders")["from"]


@dataclass
class SystemIdentity:
    """What the system identity acts on (its orders, stock and customers services), for the
    automatic hand-offs: the identity the server's own work is done as, never the CouchDB admin."""
    access: Access
    db: Database
    numbers: NumberAllocator
    clock: object = utcnow

    @property
    def orders(self) -> OrderService:
        return OrderService(self.db, self.access, self.numbers, self.clock)

    @property
    def stock(self) -> StockService:
        return StockService(self.db, self.access, self.clock)

    @property
    def customers(self) -> crm.CustomerService:
        return crm.CustomerService(self.db, self.access, self.clock)


# -- the steps, each as whoever runs it ------------------------------------------------------------
def order_priority(customer: dict, order: dict, clock, short: bool = False) -> crm.Priority:
    return crm.priority(customer, order, crm.today_of(clock), short=short)


def allocation_changes(order: dict, claims: list[dict], customer: dict | None, clock) -> dict:
    """What the allocate step changes on an order that made `claims`: its allocations, the rest of
    each line backordered, and (with the customer's profile) its priority, higher when short."""
    allocations = merge_allocations(order.get("allocations"), claims)
    got: dict[int, int] = {}
    for a in allocations:
        got[a["line"]] = got.get(a["line"], 0) + a["qty"]
    backorders = [{"line": l["line"], "sku": l["sku"], "qty": l["qty"] - got.get(l["line"], 0)}
                  for l in order["lines"] if l["qty"] > got.get(l["line"], 0)]
    changes = {"allocations": allocations, "backorders": backorders or None}
    if order.get("status") == "approved" and "fill" not in order:
        # Availability when the order was first allocated, kept for the Review's fill rate: the
        # backorders themselves are served and removed later. An amendment allocates again but
        # keeps the first answer.
        changes["fill"] = {"lines": len(order["lines"]),
                           "full": sum(1 for l in order["lines"] if got.get(l["line"], 0) >= l["qty"])}
    if customer is not None:
        changes["priority"] = order_priority(customer, order, clock, short=bool(backorders)).value
    return changes


def allocate(order: dict, orders: OrderService, stock: StockService, customer: dict | None = None) -> dict:
    """approved -> allocated: claim each line's quantity (fullest warehouse first), backorder the
    rest, and write both onto the order in one revision. A claim whose order write fails is
    given back."""
    number, claims = order["number"], []
    try:
        for line in order["lines"]:
            claims += stock.claim_line(number, line["line"], line["sku"], line["qty"])
        return orders.act_on(order, "allocate", changes=allocation_changes(order, claims, customer, orders.clock))
    except BaseException:
        stock.undo(number, claims)
        raise


def allocate_backorders(sku: str, agent: SystemIdentity, limit: int = 500) -> list[dict]:
    """Stock of `sku` arrived: serve the orders waiting for it, most urgent first, then oldest
    (view backorders_by_priority), until none is free. Returns what each order line got.

    One pass, like placement (oms/fulfilment/placement.py), whatever the number waiting: the
    waiting lines, the SKU's stock and the orders are read in three requests, the claims are
    decided in memory and written in one _bulk_docs of stock documents (compare-and-swap,
    oms/store/cas.py), then the orders in one _bulk_docs. What a pass could not settle (a stock
    document or an order someone changed meanwhile) is given back and decided again by another
    pass on fresh reads."""
    served: dict[tuple, dict] = {}   # (order, line) -> what it got, over every pass
    rank: dict[tuple, tuple] = {}    # (order, line) -> its place in the queue
    refused: set[str] = set()        # orders the server would not take: they keep their place, unserved
    for attempt in range(BACKORDER_PASSES):
        try:
            got, again = _serve_waiting(sku, agent, limit, refused)
        except CouchError as exc:
            log.warning("serving the backorders of %s stopped: %s", sku, exc.reason)
            break
        for place, entry in got:
            key = (entry["order"], entry["line"])
            rank[key] = place
            if key in served:
                served[key]["qty"] += entry["qty"]
            else:
                served[key] = entry
        if not again:
            break
        # Someone else wrote the same documents: spread out rather than collide again in step.
        time.sleep(random.uniform(0, min(0.05, 0.002 * 2 ** attempt)))
    return [served[key] for key in sorted(served, key=lambda k: rank[k])]


BACKORDER_PASSES = 8   # a receipt decides again at most this often while others change its documents


def _serve_waiting(sku: str, agent: SystemIdentity, limit: int, refused: set[str]) -> tuple[list[tuple], bool]:
    """One pass over the lines waiting for `sku`: what each line got, with its place in the queue
    [(place, entry)], and whether another pass is needed (a write lost to someone else's)."""
    db, me = agent.db, agent.access
    rows = [r for r in db.view("oms", "backorders_by_priority", start_key=[sku], end_key=[sku, {}],
                               limit=limit)["rows"] if r["key"][3] not in refused]
    if not rows:
        return [], False
    levels = agent.stock.levels(sku)
    if free_units(levels) <= 0:
        return [], False
    numbers = list(dict.fromkeys(r["key"][3] for r in rows))
    found = {r["key"]: r.get("doc") for r in db.all_docs(keys=[order_id(n) for n in numbers], include_docs=True)["rows"]}

    # Decide in memory: each waiting line in turn takes what is free (fullest warehouse first, as
    # StockService.claim_line), until nothing is free.
    plans: dict[str, _Plan] = {}
    now = agent.clock()
    for row in rows:
        number, line_no = row["key"][3], row["key"][4]
        plan = plans.get(number)
        order = plan.order if plan else found.get(order_id(number))
        if (not order or order.get("type") != "order" or not me.may_read(order)
                or order["status"] not in backorder_states()):
            continue
        waiting = next((b for b in order.get("backorders") or () if b["line"] == line_no and b["sku"] == sku), None)
        if waiting is None:
            continue
        trial = copy.deepcopy(levels)
        claims = []
        for d in fullest_first(trial):
            n = hold(d, hold_key(number, line_no), waiting["qty"] - sum(c["qty"] for c in claims))
            if n <= 0:
                break
            claims.append({"line": line_no, "sku": sku, "warehouse": d["warehouse"], "qty": n})
        if not claims:
            break   # nothing free any more: the rest keep waiting, in order
        try:
            served_order = _backorders_served(order, line_no, sku, claims, me, now)
        except InvalidInput as exc:
            # This order cannot take it now; the next waiting order is served. It keeps its place.
            log.warning("could not serve backorder %s/%s of %s: %s", number, line_no, sku, exc)
            continue
        levels = trial
        plan = plans.setdefault(number, _Plan(order, row["value"]))
        plan.order = served_order
        plan.lines.append((line_no, claims))
        plan.places[line_no] = _place(row["key"])
    if not plans:
        return [], False

    # The claims: every stock document touched, in one request. A claim on a document someone
    # else changed since it was read is void; the order gets what was written, and the next pass
    # decides again on a fresh read.
    touched = {d["_id"]: d for d in levels
               if any(c["warehouse"] == d["warehouse"] for p in plans.values() for _, cs in p.lines for c in cs)}
    for d in touched.values():
        d["updated_at"], d["updated_by"] = now, me.name
    outcomes = cas.save_all(db, list(touched.values()))
    written = {d["_id"] for d, o in zip(touched.values(), outcomes) if not isinstance(o, CouchError)}
    memories.stock.keep(db.name, [o for o in outcomes if not isinstance(o, CouchError)])
    memories.stock.forget(db.name, touched.keys() - written)
    again = len(written) < len(touched)
    if any(isinstance(o, CouchError) and not isinstance(o, Conflict) for o in outcomes):
        again = False   # the server refused or is away: what is left waits for the next receipt

    # The orders: what each got, in one request, written after the claims they name.
    revisions, held = [], []
    for number, plan in plans.items():
        lines = [(line_no, kept) for line_no, claims in plan.lines
                 if (kept := [c for c in claims if stock_id(sku, c["warehouse"]) in written])]
        if not lines:
            continue
        claims = [c for _, cs in lines for c in cs]
        try:
            revision = found[order_id(number)]
            for line_no, cs in lines:
                revision = _backorders_served(revision, line_no, sku, cs, me, now)
        except InvalidInput as exc:
            log.warning("could not serve the backorders of %s: %s", number, exc)
            agent.stock.undo(number, claims)
            continue
        revisions.append((plan, lines, claims, revision))
        held.append(revision)
    try:
        outcomes = db.save_all(held) if held else []
    except BaseException:   # claims must not outlive order writes that never happened
        for _, _, claims, revision in revisions:
            agent.stock.undo(revision["number"], claims)
        raise
    served = []
    for (plan, lines, claims, revision), outcome in zip(revisions, outcomes):
        number = revision["number"]
        if isinstance(outcome, CouchError):
            agent.stock.undo(number, claims)   # the claims must not outlive an order write that failed
            if isinstance(outcome, Conflict):
                again = True   # the order changed meanwhile: decide again on its new revision
            else:
                refused.add(number)
                log.warning("could not serve the backorders of %s: %s", number, outcome.reason)
            continue
        for line_no, cs in lines:
            entry = {"order": number, "line": line_no, "sku": sku, "qty": sum(c["qty"] for c in cs)}
            if plan.seen.get("readers"):   # so a caller can leave out what its person may not see
                entry.update(readers=plan.seen["readers"], authors=plan.seen.get("authors", []))
            served.append((plan.places[line_no], entry))
    return served, again


@dataclass
class _Plan:
    """What a pass decided for one waiting order: its revision so far, its lines served with their
    claims [(line, [claim])] and their places in the queue, and its row's value in the view (its
    readers)."""
    order: dict
    seen: dict
    lines: list[tuple[int, list[dict]]] = field(default_factory=list)
    places: dict[int, tuple] = field(default_factory=dict)   # line -> its place in the queue (_place)


def _place(key: list) -> tuple:
    """A waiting line's place in the queue, from its key in backorders_by_priority ([sku,
    priority, created_at, number, line]), comparable across passes as the view collates it (an
    order without a priority, null, comes first)."""
    priority = key[1]
    return (priority is not None, priority if isinstance(priority, (int, float)) else 0,
            str(key[2] or ""), str(key[3]), key[4])


def still_waiting(order: dict, line_no: int, served: int) -> list[dict] | None:
    """The order's backorders once `served` units reached line `line_no` (None when none waits)."""
    backorders = [dict(b) for b in order["backorders"]]
    for b in backorders:
        if b["line"] == line_no:
            b["qty"] -= served
    return [b for b in backorders if b["qty"] > 0] or None


def _backorders_served(order: dict, line_no: int, sku: str, claims: list[dict], me, now) -> dict:
    """The order's next revision once `claims` served its backordered line: one history entry per
    line, as a Warehouse person serving it would write (raises InvalidInput where the server
    would refuse it)."""
    n = sum(c["qty"] for c in claims)
    new = workflow.apply(me, order, "allocate_backorders", now, f"{n} x {sku} arrived for line {line_no}",
                         {"allocations": merge_allocations(order.get("allocations"), claims),
                          "backorders": still_waiting(order, line_no, n)})
    problem = order_problem(new)
    if problem:
        raise InvalidInput(problem)
    return new


def serve_backorder(number, line_no, sku, orders: OrderService, stock: StockService) -> int | None:
    try:
        order = orders.get(number)
    except NotFound:
        return None
    waiting = next((b for b in order.get("backorders") or () if b["line"] == line_no and b["sku"] == sku), None)
    if waiting is None or order["status"] not in backorder_states():
        return None
    claims = stock.claim_line(number, line_no, sku, waiting["qty"])
    if not claims:
        return 0
    n = sum(c["qty"] for c in claims)
    try:
        orders.act(number, "allocate_backorders",
                   reason=f"{n} x {sku} arrived for line {line_no}",
                   changes={"allocations": merge_allocations(order.get("allocations"), claims),
                            "backorders": still_waiting(order, line_no, n)},
                   rev=order["_rev"])
    except BaseException:
        stock.undo(number, claims)
        raise
    return n


def credit_decision(order: dict, agent: SystemIdentity) -> dict:
    """submitted -> approved (within the limit, when the rule says so) or credit_hold (with the
    reason), decided by the system identity on the revision it read and the profile as it is."""
    # One decision per customer at a time in this process, each written before the next reads the
    # exposure, so orders placed together cannot both fit under the limit the other one used.
    # (Processes still race: two workers may approve at the same moment.)
    with turn(f"credit:{order['customer']['id']}"):
        customer = agent.customers.get(order["customer"]["id"])
        decision = agent.customers.check(order, customer)
        prio = order_priority(customer, order, agent.clock).value
        record = decision.record(agent.access.name, agent.clock(), "auto_approved" if decision.ok else "held")
        if decision.ok:
            if not crm.credit_rules()["auto_approve_within_limit"]:
                return order
            return agent.orders.act_on(order, "approve", changes={"credit": record, "priority": prio})
        return agent.orders.act_on(order, "hold_credit", reason="Credit check: " + decision.sentence(),
                                   changes={"credit": record, "priority": prio})


def settle(order: dict, agent: SystemIdentity) -> dict:
    """Run the hand-offs the order's state calls for, until it rests with a person (one order
    alone; orders placed together settle in a placement pass)."""
    for _ in range(4):
        try:
            if order["status"] == "submitted":
                order = credit_decision(order, agent)
            elif order["status"] == "approved" and "allocations" not in order:
                customer = agent.customers.get(order["customer"]["id"])
                order = allocate(order, agent.orders, agent.stock, customer)
            else:
                return order
        except Conflict:   # someone changed something: decide again on news
            try:
                order = agent.orders.get(order["number"])
            except CouchError:
                return order
        except (CouchError, InvalidInput) as exc:
            log.warning("hand-off for %s (%s) stopped: %s", order["number"], order["status"],
                        getattr(exc, "reason", exc))
            return order
    return order


def release(order: dict, stock: StockService) -> list[dict]:
    try:
        return stock.release_order(order)
    except CouchError as exc:
        log.error("could not give back the stock %s held: %s", order["number"], exc.reason)
        return []


# -- the person's service ------------------------------------------------------------------------


def receive(stock: StockService, agent: SystemIdentity, sku: str, warehouse: str, qty: int,
            description: str | None = None) -> tuple[dict, list[dict]]:
    """A receipt (by a Warehouse person, or the WMS feed as the system identity), then the
    automatic allocation of the SKU's backorders as the system identity."""
    doc = stock.receive(sku, warehouse, qty, description)
    return doc, allocate_backorders(doc["sku"], agent)


def count(stock: StockService, agent: SystemIdentity, sku: str, warehouse: str, on_hand: int,
          description: str | None = None) -> tuple[dict, list[dict]]:
    """A stock count from the WMS: set on_hand; more free stock serves backorders."""
    doc = stock.set_count(sku, warehouse, on_hand, description)
    served = allocate_backorders(doc["sku"], agent) if doc["on_hand"] > doc["reserved"] else []
    return doc, served


def credit_rule_needs_reason(order: dict, action: str) -> bool:
    """For the action bar: approving an order on credit hold asks for a reason (priority.json)."""
    return (action == "approve" and order.get("status") == "credit_hold"
            and crm.credit_rules()["approve_from_hold_needs_reason"])
