"""The order service of a person at the desk or the API, whose actions run the hand-offs
(handoffs.py): submitting places the order with the others of the same moment (placement.py),
approving allocates, cancelling gives the stock back; each step as the identity it belongs to."""
from __future__ import annotations

import logging

from oms.billing.invoices import BillingService
from oms.billing.returns import ReturnService
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.crm import customers as crm
from oms.identity.acl import Access
from oms.ordering import workflow
from oms.ordering.orders import OrderService
from oms.store.couch import Conflict, Database, Forbidden
from oms.store.numbers import NumberAllocator
from oms.wms.shipments import ShipmentService
from oms.wms.stock import StockService, held

from .handoffs import (
    RELEASING,
    SystemIdentity,
    allocate,
    backorder_states,
    order_priority,
    release,
    serve_backorder,
    settle,
)
from .placement import place

log = logging.getLogger(__name__)


class FulfilmentService(OrderService):
    """OrderService with the CRM/WMS links: what a person does through the web or the API.

    `agent` is a callable returning the SystemIdentity (made lazily: drafts never need it)."""

    def __init__(self, db: Database, access: Access, numbers: NumberAllocator, agent, clock=utcnow):
        super().__init__(db, access, numbers, clock)
        self._agent_factory, self._agent = agent, None
        self.availability: list[dict] | None = None   # the placement answer of the last create()

    @property
    def agent(self) -> SystemIdentity:
        if self._agent is None:
            self._agent = self._agent_factory()
        return self._agent

    def plain(self) -> OrderService:
        """The same person without hand-offs (for the steps' own writes)."""
        return OrderService(self.db, self.access, self.numbers, self.clock)

    def billing(self) -> BillingService:
        return BillingService(self.db, self.access, self.plain(), self.clock)

    def returns(self) -> ReturnService:
        # stock moves (back on hand, a replacement's claim and consumption) are hand-offs, as shipping's are
        return ReturnService(self.db, self.access, self.plain(), self.agent.stock, self.billing(), self.clock)

    @property
    def stock(self) -> StockService:
        return StockService(self.db, self.access, self.clock)

    # placing
    def create(self, data: dict, number: str | None = None) -> dict:
        if not isinstance(data, dict):
            raise InvalidInput("the order must be a JSON object")
        customer = self.customer(data.get("customer"))
        doc = self.build(data, number, customer)
        # A submitted order's availability, credit and allocation are settled with the orders
        # placed at the same moment (oms/fulfilment/placement.py), on a fresh profile and fresh stock.
        # One waiting for price approval is placed once its prices are approved.
        submitted = doc["status"] == "submitted"
        answers = [] if submitted else self.stock.availability(doc["lines"])
        if data.get("priority") is None:
            short = any(a.status != "available" for a in answers)
            doc["priority"] = order_priority(customer, doc, self.clock, short).value
        if submitted:   # written with the orders placed at this moment, then settled with them
            doc, self.availability = place(doc, self.db, self.agent)
            return doc
        self.availability = [a.as_dict() for a in answers]
        return self.db.save(doc)

    # acting
    def act(self, number_or_id: str, action: str, reason: str | None = None,
            changes: dict | None = None, rev: str | None = None) -> dict:
        if action == "allocate":
            return self._allocate_now(number_or_id, rev)
        if action == "allocate_backorders":
            return self._backorders_now(number_or_id, rev)
        if action in ("ship", "ship_part"):
            return self.ship(number_or_id, rev=rev, requested=action)[1]
        if action in ("bill", "invoice"):   # what shipped is invoiced; the step follows from it
            return self.billing().issue(number_or_id, rev=rev)[1]
        old = self.get(number_or_id)
        if action == "close":
            problem = self.billing().close_problem(old, reason)
            if problem:
                raise InvalidInput(problem)
        changes = dict(changes or {})
        reason = (reason or "").strip() or None
        if action in RELEASING:
            changes.setdefault("allocations", None)
            changes.setdefault("backorders", None)
        if action in ("approve", "hold_credit", "reject_credit", "override_credit"):
            changes.setdefault("credit", self._credit_record(old, action, reason))
        if action == "reject_credit":
            changes.setdefault("cancel_reason", reason)
        if (action == "approve" and old["status"] == "credit_hold" and not reason
                and crm.credit_rules()["approve_from_hold_needs_reason"]):
            raise InvalidInput("Approving an order on credit hold needs a reason")
        new = self.plain().act(old["_id"], action, reason, changes, rev or old["_rev"])
        if action in RELEASING and held(old):
            release(old, self.agent.stock)
        if new["status"] in ("submitted", "approved"):
            new = settle(new, self.agent)
        return new

    def amend(self, number_or_id: str, lines_input, reason: str | None, rev: str | None = None) -> dict:
        """An amendment gives back what the order held, then credit and stock run again."""
        old = self.get(number_or_id)
        new = super().amend(number_or_id, lines_input, reason, rev=rev)
        if held(old):
            release(old, self.agent.stock)
        return settle(new, self.agent) if new["status"] in ("submitted", "approved") else new

    def _credit_record(self, order: dict, action: str, reason: str | None) -> dict:
        rec = dict(order.get("credit") or {})
        rec.update(decision={"approve": "approved", "hold_credit": "held", "reject_credit": "rejected",
                             "override_credit": "overridden"}[action],
                   decided_by=self.access.name, decided_at=self.clock())
        if reason:
            rec["reason"] = reason
        else:
            rec.pop("reason", None)
        if action == crm.credit_rules()["override_transition"]:
            rec["override"] = {"by": self.access.name, "at": rec["decided_at"], "reason": reason,
                               "held_for": (order.get("credit") or {}).get("reasons", [])}
        return rec

    def _may(self, action: str) -> None:
        t = workflow.transition(action)
        if not workflow.may_take(self.access, t):
            raise Forbidden(f'Only {" or ".join(t["roles"])} (or a Manager) may "{t["title"]}".')

    def _allocate_now(self, number, rev):
        self._may("allocate")
        order = self.get(number)
        if rev and rev != order["_rev"]:
            raise Conflict("the order changed since you opened it; reload and try again")
        if order["status"] not in workflow.transition("allocate")["from"]:
            raise InvalidInput(f"\"Allocate stock\" cannot be taken from {workflow.state(order['status'])['title']}")
        customer = self.customers_as_me().get(order["customer"]["id"])
        return allocate(order, self.plain(), self.stock, customer)

    def _backorders_now(self, number, rev):
        self._may("allocate_backorders")
        order = self.get(number)
        if rev and rev != order["_rev"]:
            raise Conflict("the order changed since you opened it; reload and try again")
        if not order.get("backorders"):
            raise InvalidInput(f"{order['number']} has no backorders")
        if order["status"] not in backorder_states():
            raise InvalidInput("backorders are allocated only while the order is "
                               + ", ".join(workflow.state(s)["title"] for s in backorder_states()))
        stock, orders = self.stock, self.plain()
        got = 0
        for b in list(order["backorders"]):
            n = serve_backorder(order["number"], b["line"], b["sku"], orders, stock)
            got += n or 0
        if not got:
            raise InvalidInput("no stock is free for this order's backorders yet")
        return self.get(order["number"])

    def customers_as_me(self) -> crm.CustomerService:
        return crm.CustomerService(self.db, self.access, self.clock)

    # shipping
    def shipments(self) -> ShipmentService:
        return ShipmentService(self.db, self.access, self.plain(), self.agent.stock, self.clock)

    def ship(self, number, warehouse=None, lines=None, carrier="", tracking="", rev=None, requested=None):
        self._may("ship")
        return self.shipments().ship(number, warehouse, lines, carrier, tracking, rev, requested)
