"""Shipments: what left which warehouse for an order, as documents (`shipment:<uuid>`), partial
and split. An order ships what it holds (allocated minus shipped, per line and warehouse); each
shipment records its lines, warehouse, carrier and tracking; the order counts lines[].shipped_qty
and lists its shipments in `shipped`, and becomes partially_shipped until every unit has left
(then shipped). The stock the shipment took is consumed (on hand and the hold go down)."""
from __future__ import annotations

import logging
import uuid

from oms.core import schema
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.inputs import optional_text
from oms.core.money import to_qty
from oms.identity.acl import Access
from oms.ordering import workflow
from oms.ordering.orders import OrderService
from oms.store.couch import Conflict, CouchError, Database

from .stock import StockService, clean_warehouse, held, hold_key

log = logging.getLogger(__name__)


def shippable(order: dict, warehouse: str | None = None) -> list[dict]:
    """What the order could ship now: [{line, sku, warehouse, qty}]."""
    return [h for h in held(order) if warehouse is None or h["warehouse"] == warehouse]


def plan(order: dict, warehouse: str | None, lines) -> dict[str, list[dict]]:
    """warehouse -> shipment lines [{line, sku, qty}]. Without `lines`, everything it holds there
    (or everywhere: one shipment per warehouse, a split shipment)."""
    can = shippable(order, warehouse)
    if lines is None:
        out: dict[str, list[dict]] = {}
        for h in can:
            out.setdefault(h["warehouse"], []).append({"line": h["line"], "sku": h["sku"], "qty": h["qty"]})
        if not out:
            raise InvalidInput(f"{order['number']} holds no stock{' at ' + warehouse if warehouse else ''} to ship; "
                               "its lines wait for stock")
        return out
    if warehouse is None:
        raise InvalidInput('say which warehouse the lines leave from, e.g. "warehouse": "MAIN"')
    if not isinstance(lines, list) or not lines:
        raise InvalidInput('lines needs at least 1 item: [{"line": 1, "qty": 2}]')
    picked, seen = [], set()
    for i, raw in enumerate(lines):
        if not isinstance(raw, dict):
            raise InvalidInput(f"lines[{i}] must be an object with line and qty")
        # to_qty, not int(): int() takes 2.7 for 2 and fails on a huge float with an OverflowError
        line_no, qty = to_qty(raw.get("line"), f"lines[{i}].line"), to_qty(raw.get("qty"), f"lines[{i}].qty")
        if qty == 0:
            continue
        if line_no in seen:
            raise InvalidInput(f"line {line_no} is listed twice")
        seen.add(line_no)
        have = sum(h["qty"] for h in can if h["line"] == line_no)
        if qty < 0 or qty > have:
            raise InvalidInput(f"line {line_no} can ship 0 to {have} from {warehouse}, not {qty}")
        sku = next(l["sku"] for l in order["lines"] if l["line"] == line_no)
        picked.append({"line": line_no, "sku": sku, "qty": qty})
    if not picked:
        raise InvalidInput("the shipment has no quantities")
    return {warehouse: picked}


class ShipmentService:
    """Shipping as the person (shipment documents and the order are written as them); the stock
    consumption is an automatic hand-off run by `stock` (the system identity)."""

    def __init__(self, db: Database, access: Access, orders: OrderService, stock: StockService, clock=utcnow):
        self.db, self.access, self.orders, self.stock, self.clock = db, access, orders, stock, clock

    def ship(self, number: str, warehouse: str | None = None, lines=None, carrier: str = "",
             tracking: str = "", rev: str | None = None, requested: str | None = None) -> tuple[list[dict], dict]:
        carrier = optional_text(carrier, "carrier", 80) or ""
        tracking = optional_text(tracking, "tracking", 120) or ""
        if rev is not None and not isinstance(rev, str):
            raise InvalidInput("rev must be the _rev text you read")
        order = self.orders.get(number)
        if rev and rev != order["_rev"]:
            raise Conflict("the order changed since you opened it; reload and try again")
        ship_t = workflow.transition("ship")
        if order["status"] not in ship_t["from"]:
            raise InvalidInput(f"{order['number']} is {workflow.state(order['status'])['title']}; it ships from "
                               + " or ".join(workflow.state(s)["title"] for s in ship_t["from"]))
        if warehouse is not None:
            warehouse = clean_warehouse(warehouse)
        groups = plan(order, warehouse, lines)
        now = self.clock()
        new_lines = [dict(l) for l in order["lines"]]
        for wh_lines in groups.values():
            for sl in wh_lines:
                target = next(l for l in new_lines if l["line"] == sl["line"])
                target["shipped_qty"] = target.get("shipped_qty", 0) + sl["qty"]
        complete = all(l.get("shipped_qty", 0) >= l["qty"] for l in new_lines)
        if requested == "ship" and not complete:
            waiting = sum(l["qty"] - l.get("shipped_qty", 0) for l in new_lines)
            raise InvalidInput(f"{waiting} unit(s) would still be missing after this shipment; use \"Ship part\"")
        docs = [self.record(order, wh, wh_lines, now, self.access.name, carrier, tracking)
                for wh, wh_lines in groups.items()]
        written = []
        try:
            for doc in docs:
                written.append(self.db.save(doc))
            records = [{"shipment": d["_id"], "warehouse": d["warehouse"], "at": now,
                        "lines": [{"line": l["line"], "qty": l["qty"]} for l in d["lines"]],
                        **{k: d[k] for k in ("carrier", "tracking") if d.get(k)}} for d in docs]
            order = self.orders.act(order["number"], "ship" if complete else "ship_part",
                              changes={"lines": new_lines, "shipped": (order.get("shipped") or []) + records},
                              rev=order["_rev"])
        except BaseException:
            for d in written:  # the order did not take the shipment: it did not happen
                try:
                    self.db.delete(d["_id"], d["_rev"])
                except CouchError:
                    log.exception("could not remove shipment %s of a failed shipping", d["_id"])
            raise
        for d in docs:
            for l in d["lines"]:
                try:
                    self.stock.consume(l["sku"], d["warehouse"], hold_key(order["number"], l["line"]), l["qty"])
                except CouchError:
                    log.exception("shipped %s x %s from %s for %s but could not consume the stock",
                                  l["qty"], l["sku"], d["warehouse"], order["number"])
        return docs, order

    @staticmethod
    def record(order: dict, warehouse: str, lines: list[dict], at: str, by: str, carrier: str = "",
               tracking: str = "", replacement: str | None = None) -> dict:
        """The shipment document of `lines` leaving `warehouse` for the order (`replacement`: the
        return whose units it sends again)."""
        doc = {"_id": f"shipment:{uuid.uuid4().hex}", "type": "shipment", "order": order["number"],
               "warehouse": warehouse, "lines": lines, "shipped_at": at, "shipped_by": by}
        if carrier.strip():
            doc["carrier"] = carrier.strip()
        if tracking.strip():
            doc["tracking"] = tracking.strip()
        if replacement:
            doc["replacement_for"] = replacement
        for f in ("readers", "partner"):  # so partner copies (push replication) and Readers-keyed views follow
            if order.get(f):
                doc[f] = order[f]
        problem = schema.check(doc, "shipment")
        if problem:
            raise InvalidInput(problem)
        return doc

    def of_order(self, order: dict) -> list[dict]:
        ids = [s["shipment"] for s in order.get("shipped") or ()]
        if not ids:
            return []
        res = self.db.all_docs(keys=ids, include_docs=True)
        return [r["doc"] for r in res["rows"] if r.get("doc")]
