"""Returns (RMA): a customer sends back part of a delivered order (rules/billing.json).

A return authorisation lives on the order it belongs to (`order.returns`), so the order's own
compare-and-swap write decides it: two clerks never return the same units twice, and
validate_doc_update checks, whoever writes, that returns take back no more of a line than reached
the customer. Its steps are the order's workflow steps:

- request_return: lines, quantities, a reason and an outcome each (refund or replace), and the
  warehouse to receive into; a number from the RMA series.
- receive_return: the units are back on hand, in that warehouse, or in quarantine when their
  reason says so.
- refund: a credit note for the refund lines, against the invoices that billed them (latest first).
- replace: the replacement units ship at once from a warehouse, as a shipment against the same
  order marked as a replacement (never billed again).
"""
from __future__ import annotations

from oms.core.clock import utcnow
from oms.core.errors import InvalidInput, NotFound
from oms.identity.acl import Access
from oms.ordering.orders import OrderService
from oms.store.couch import Database
from oms.wms.shipments import ShipmentService
from oms.wms.stock import StockService, clean_warehouse, hold_key

from .invoices import BillingService, billing_rules, series


def sent(order: dict) -> dict[int, int]:
    """Units of each line that reached the customer: shipped, and sent again as replacements."""
    out = {l["line"]: l.get("shipped_qty", 0) for l in order["lines"]}
    for s in order.get("shipped") or ():
        if s.get("replacement"):
            for sl in s["lines"]:
                out[sl["line"]] = out.get(sl["line"], 0) + sl["qty"]
    return out


def returned(order: dict) -> dict[int, int]:
    out: dict[int, int] = {}
    for r in order.get("returns") or ():
        for l in r["lines"]:
            out[l["line"]] = out.get(l["line"], 0) + l["qty"]
    return out


def returnable(order: dict) -> dict[int, int]:
    back = returned(order)
    return {n: q - back.get(n, 0) for n, q in sent(order).items()}


def find(order: dict, rma: str) -> tuple[int, dict]:
    for i, r in enumerate(order.get("returns") or ()):
        if r["number"] == rma:
            return i, r
    raise NotFound(f"{order['number']} has no return {rma}")


class ReturnService:
    """Returns as the person (the order's steps, credit notes, the replacement's shipment); `stock`
    moves the units, as the system identity's hand-offs do for shipping."""

    def __init__(self, db: Database, access: Access, orders: OrderService, stock: StockService,
                 billing: BillingService, clock=utcnow):
        self.db, self.access, self.orders, self.stock, self.billing, self.clock = db, access, orders, stock, billing, clock

    def request(self, number: str, lines, warehouse: str | None = None, note: str | None = None) -> dict:
        order = self.orders.get(number)
        rules = billing_rules()
        left = returnable(order)
        fields: dict[str, str] = {}
        wanted = []
        if not isinstance(lines, list) or not lines:
            fields["lines"] = "name the lines and quantities coming back"
            lines = []
        by_line = {l["line"]: l for l in order["lines"]}
        for i, l in enumerate(lines):
            l = l if isinstance(l, dict) else {}
            n, q = l.get("line"), l.get("qty")
            if type(q) is str and q.strip().isdigit():
                q = int(q)
            if type(n) is str and n.strip().isdigit():
                n = int(n)
            if type(n) is not int or n not in left:
                fields[f"lines[{i}].line"] = f"{order['number']} has lines {', '.join(map(str, sorted(left)))}"
                continue
            if type(q) is not int or not 0 < q <= left[n]:
                fields[f"lines[{i}].qty"] = (f"line {n}: a whole number from 1 to {left[n]} (sent, not returned yet)"
                                             if left[n] else f"line {n}: nothing of it is left to return")
            if not isinstance(l.get("reason"), str) or l["reason"] not in rules["return_reasons"]:
                fields[f"lines[{i}].reason"] = "one of: " + ", ".join(rules["return_reasons"].values())
            if not isinstance(l.get("outcome"), str) or l["outcome"] not in rules["return_outcomes"]:
                fields[f"lines[{i}].outcome"] = "refund or replacement"
            if any(w["line"] == n for w in wanted):
                fields[f"lines[{i}].line"] = f"line {n} is named twice"
            wanted.append({"line": n, "sku": by_line[n]["sku"], "qty": q, "reason": l.get("reason"),
                           "outcome": l.get("outcome")})
        try:
            warehouse = clean_warehouse(warehouse or (order.get("shipped") or [{}])[-1].get("warehouse") or "MAIN")
        except InvalidInput as exc:
            fields["warehouse"] = str(exc)
        if fields:
            raise InvalidInput("; ".join(fields.values()), fields)
        rma = {"number": series("return").next(self.db), "lines": wanted, "warehouse": warehouse, "status": "requested",
               "requested_at": self.clock(), "requested_by": self.access.name}
        reason = (note.strip() if isinstance(note, str) else "") or "; ".join(f"line {w['line']}: {w['qty']} x {rules['return_reasons'][w['reason']]}, "
                                                    f"{rules['return_outcomes'][w['outcome']].lower()}" for w in wanted)
        return self.orders.act_on(order, "request_return", f"{rma['number']}: {reason}"[:500],
                                  {"returns": [*(order.get("returns") or []), rma]})

    def receive(self, number: str, rma: str) -> dict:
        """The units are back: on hand where the return said, or in quarantine for its reasons."""
        order = self.orders.get(number)
        i, r = find(order, rma)
        if r["status"] != "requested":
            raise InvalidInput(f"{rma} was received already")
        q = billing_rules()["quarantine"]
        into = {l["line"]: (q["warehouse"] if l["reason"] in q["reasons"] else r["warehouse"]) for l in r["lines"]}
        updated = {**r, "status": "received", "received_at": self.clock(), "received_by": self.access.name,
                   "received_into": [{"line": l["line"], "warehouse": into[l["line"]]} for l in r["lines"]]}
        returns = _with_return(order, i, updated)
        order = self.orders.act_on(order, "receive_return", None, {"returns": returns})
        for l in r["lines"]:   # after the order took the step: a refused step puts nothing on hand
            self.stock.receive(l["sku"], into[l["line"]], l["qty"])
        return order

    def refund(self, number: str, rma: str) -> tuple[dict, list[dict]]:
        """Credit notes for the return's refund lines, against the invoices that billed them."""
        order = self.orders.get(number)
        i, r = find(order, rma)
        todo = {l["line"]: l["qty"] for l in r["lines"] if l["outcome"] == "refund"}
        if r["status"] != "received" or r.get("refunded") or not todo:
            raise InvalidInput(f"{rma} has no received refund lines waiting")
        notes = []
        for rec in reversed(order.get("invoices") or []):
            if not todo:
                break
            inv = self.billing.get(rec["number"])
            left, _ = self.billing.credit_left(inv)
            take = []
            for il in inv["lines"]:
                n = min(todo.get(il["line"], 0), left[il["line"]])
                if n > 0:
                    take.append({"line": il["line"], "qty": n})
                    todo[il["line"]] -= n
                    if not todo[il["line"]]:
                        del todo[il["line"]]
            if take:
                notes.append(self.billing.credit(inv["number"], take, reason=f"Return {rma}"))
        if todo:
            raise InvalidInput(f"{rma}: line(s) {', '.join(map(str, todo))} are not on an invoice that can still be "
                               "credited; invoice the order first")
        updated = {**r, "refunded": {"at": self.clock(), "by": self.access.name,
                                     "credit_notes": [n["number"] for n in notes]}}
        updated["status"] = "resolved" if _done(updated) else "received"
        returns = _with_return(order, i, updated)
        return self.orders.act_on(order, "refund", None, {"returns": returns}), notes

    def replace(self, number: str, rma: str, warehouse: str | None = None) -> tuple[dict, dict]:
        """Ship the return's replacement lines again now, from `warehouse` (the return's by default)."""
        order = self.orders.get(number)
        i, r = find(order, rma)
        todo = [l for l in r["lines"] if l["outcome"] == "replace"]
        if r["status"] != "received" or r.get("replaced") or not todo:
            raise InvalidInput(f"{rma} has no received replacement lines waiting")
        wh = clean_warehouse(warehouse or r["warehouse"])
        # The line shipped in full, so it holds nothing: its hold key is free for the moment
        # between claiming the replacement units and consuming them.
        key = lambda l: hold_key(order["number"], l["line"])   # noqa: E731
        got = []
        try:
            for l in todo:
                n = self.stock.claim(l["sku"], wh, key(l), l["qty"])
                got.append((l, n))
                if n < l["qty"]:
                    raise InvalidInput(f"{wh} has {n} of {l['sku']} free for line {l['line']}, {l['qty']} are needed; "
                                       "receive stock or choose another warehouse")
        except BaseException:
            for l, n in got:
                if n:
                    self.stock.give_back(l["sku"], wh, key(l), n)
            raise
        shipment = ShipmentService.record(order, wh, [{"line": l["line"], "sku": l["sku"], "qty": l["qty"]} for l in todo],
                                          self.clock(), self.access.name, replacement=rma)
        saved = self.db.save(shipment)
        updated = {**r, "replaced": {"at": self.clock(), "by": self.access.name, "shipment": saved["_id"]}}
        updated["status"] = "resolved" if _done(updated) else "received"
        returns = _with_return(order, i, updated)
        record = {"shipment": saved["_id"], "warehouse": wh, "at": saved["shipped_at"], "replacement": rma,
                  "lines": [{"line": l["line"], "qty": l["qty"]} for l in todo]}
        order = self.orders.act_on(order, "replace", None, {"returns": returns,
                                                            "shipped": [*(order.get("shipped") or []), record]})
        for l in todo:
            self.stock.consume(l["sku"], wh, key(l), l["qty"])
        return order, saved


def _with_return(order: dict, i: int, updated: dict) -> list[dict]:
    """The order's returns with return i as `updated`."""
    return [*order["returns"][:i], updated, *order["returns"][i + 1:]]


def _done(r: dict) -> bool:
    kinds = {l["outcome"] for l in r["lines"]}
    return ("refund" not in kinds or bool(r.get("refunded"))) and ("replace" not in kinds or bool(r.get("replaced")))
