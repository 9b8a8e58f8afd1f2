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

import logging
from dataclasses import dataclass

from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.memories import turn
from oms.crm import customers as crm
from oms.identity.acl import Access
from oms.ordering import workflow
from oms.ordering.orders import OrderService
from oms.store.couch import Conflict, CouchError, Database, NotFound
from oms.store.numbers import NumberAllocator
from oms.wms.stock import StockService, merge_allocations

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
    (view backorders_by_priority), until none is free. Returns what each order got."""
    stock, orders = agent.stock, agent.orders
    rows = agent.db.view("oms", "backorders_by_priority", start_key=[sku], end_key=[sku, {}], limit=limit)["rows"]
    served = []
    for row in rows:
        number, line_no = row["key"][3], row["key"][4]
        got = None
        for _ in range(3):  # the order may change under us (409): read it again and retry
            try:
                got = serve_backorder(number, line_no, sku, orders, stock)
                break
            except Conflict:
                continue
            except (CouchError, InvalidInput) as exc:
                # This order cannot take it now (its claims were given back); the receipt stands
                # and the next waiting order is served. The order keeps its place in the queue.
                log.warning("could not serve backorder %s/%s of %s: %s", number, line_no, sku,
                            getattr(exc, "reason", exc))
                break
        if got is None:
            continue
        if got == 0:
            break  # nothing free any more: the rest keep waiting, in order
        entry = {"order": number, "line": line_no, "sku": sku, "qty": got}
        if row["value"].get("readers"):  # so a caller can leave out what its person may not see
            entry.update(readers=row["value"]["readers"], authors=row["value"].get("authors", []))
        served.append(entry)
    return served


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
    backorders = [dict(b) for b in order["backorders"]]
    for b in backorders:
        if b["line"] == line_no:
            b["qty"] -= n
    backorders = [b for b in backorders if b["qty"] > 0]
    try:
        orders.act(number, "allocate_backorders",
                   reason=f"{n} x {sku} arrived for line {line_no}",
                   changes={"allocations": merge_allocations(order.get("allocations"), claims),
                            "backorders": backorders or None},
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
