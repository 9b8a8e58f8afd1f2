"""Invoices and payments (rules/billing.json): what was shipped is billed, what is billed is paid,
and an order closes when both are done.

- An invoice bills shipments, from the order's own records of them (`order.shipped`) and its
  lines' prices and tax: per shipment or all unbilled shipments at once (the rule's
  `invoicing`). The order's shipping charge goes on its first invoice.
- Issuing is two writes, order first: the order names the new invoices (number, shipments,
  dates, gross) in the same compare-and-swap write that takes the workflow step, so two clerks
  never bill one shipment twice; then each invoice document is written from what the order
  names. An invoice the order names but the server does not have (the second write failed) is
  written by the next issue, or by `complete`, from the same record: nothing is billed twice or
  lost.
- Invoices, credit notes and payments never change (validate_doc_update refuses every writer). A
  correction to an invoice is a credit note against it: lines and quantities it billed (never
  more than it billed less earlier credit notes), and its shipping charge once. What an invoice
  still asks for is its gross less the payments' shares of it and its credit notes
  (`_design/billing` balance_by_invoice); its state (open, partly paid, paid, overdue) follows
  from that and the day.
- A payment is shared out over one or several invoices of one customer, never more than each
  still asks for. When it pays the last of an invoiced order's invoices, the order closes.
"""
from __future__ import annotations

import datetime as dt
import uuid

from oms.catalog import pricing
from oms.core import rules
from oms.core.clock import utcnow
from oms.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from oms.core.money import to_cents
from oms.core.schema import check as schema_check
from oms.crm.customers import today_of
from oms.identity.acl import Access
from oms.ordering import workflow
from oms.ordering.orders import OrderService
from oms.store.couch import Database
from oms.store.numbers import NumberAllocator


def billing_rules() -> dict:
    return rules.rules()["billing"]


def series(kind: str) -> NumberAllocator:
    """A billing number series ("invoice", "credit_note"): a number per counter write, so it has
    no gaps (rules/billing.json)."""
    r = billing_rules()
    return NumberAllocator(block=r["counter_block"], prefix=r["series"][kind]["prefix"], grow=False,
                           counter_id=r["series"][kind]["counter_id"])


def terms_days(customer: dict | None) -> int:
    days = (customer or {}).get("payment_terms_days")
    return days if type(days) is int and 0 <= days <= 365 else billing_rules()["terms_days"]


def billed_shipments(order: dict) -> set[str]:
    return {s for inv in order.get("invoices") or () for s in inv["shipments"]}


def unbilled(order: dict) -> list[dict]:
    """The order's shipment records (order.shipped) that no invoice bills yet, oldest first (a
    replacement for returned units is not billed again)."""
    billed = billed_shipments(order)
    return [s for s in order.get("shipped") or () if s["shipment"] not in billed and not s.get("replacement")]


def everything_billed(order: dict, new: list[dict] = ()) -> bool:
    """Is every unit of every line shipped, and every shipment billed (counting `new` records)?"""
    billed = billed_shipments(order) | {s for rec in new for s in rec["shipments"]}
    shipped_all = all(l.get("shipped_qty", 0) >= l["qty"] for l in order["lines"])
    return shipped_all and all(s["shipment"] in billed for s in order.get("shipped") or () if not s.get("replacement"))


def groups(records: list[dict]) -> list[list[dict]]:
    """The unbilled shipment records as the invoices that bill them (the rule's `invoicing`)."""
    if not records:
        return []
    if billing_rules()["invoicing"] == "consolidated":
        return [records]
    return [[r] for r in records]


def build(order: dict, record: dict) -> dict:
    """The invoice document an order's invoice record names (same input, same document)."""
    country = (order.get("ship_to") or {}).get("country")
    default_class = pricing.pricing_rules()["default_tax_class"]
    by_line = {l["line"]: l for l in order["lines"]}
    qty: dict[int, int] = {}
    for shipment in order.get("shipped") or ():
        if shipment["shipment"] in record["shipments"]:
            for sl in shipment["lines"]:
                qty[sl["line"]] = qty.get(sl["line"], 0) + sl["qty"]
    lines = []
    for n in sorted(qty):
        ol = by_line[n]
        tax_class = ol.get("tax_class") or default_class
        priced = pricing.price_line(qty[n], ol["unit_price_cents"], tax_class, country)
        lines.append({"line": n, "sku": ol["sku"], "description": ol.get("description") or ol["sku"], "qty": qty[n],
                      "unit_price_cents": ol["unit_price_cents"], "amount_cents": priced["amount_cents"],
                      "tax_class": tax_class, "tax_rate_bp": priced["tax_rate_bp"], "tax_cents": priced["tax_cents"]})
    shipping = (order.get("totals") or {}).get("shipping_cents", 0) if record.get("first") else 0
    totals = pricing.priced_totals(lines, country, shipping)
    doc = {"_id": f"invoice:{record['number']}", "type": "invoice", "number": record["number"],
           "order": order["number"], "customer": {"id": order["customer"]["id"], "name": order["customer"]["name"]},
           "currency": order["currency"], "bill_to": order.get("bill_to") or {"name": order["customer"]["name"]},
           "ship_to": order.get("ship_to") or {"country": pricing.home_country()},
           "shipments": list(record["shipments"]), "lines": lines, "totals": totals,
           "issued_at": record["issued_at"], "issued_by": record["issued_by"],
           "due_date": record["due_date"], "terms_days": record["terms_days"]}
    for f in ("customer_po", "readers", "partner"):
        if order.get(f):
            doc[f] = order[f]
    return doc


def state(invoice: dict, unpaid_cents: int, today: dt.date) -> str:
    if unpaid_cents <= 0:
        return "paid"
    if dt.date.fromisoformat(invoice["due_date"]) < today:
        return "overdue"
    return "partly_paid" if unpaid_cents < invoice["totals"]["gross_cents"] else "open"


def state_title(name: str) -> str:
    return billing_rules()["states"][name]


def unpaid(db: Database, numbers: list[str]) -> dict[str, int]:
    """What each invoice still asks for (invoices the server does not have are left out), in one
    grouped range from the lowest number to the highest: the series is dense, so the range holds
    few invoices besides these."""
    if not numbers:
        return {}
    wanted = set(numbers)
    rows = db.view("billing", "balance_by_invoice", start_key=[min(wanted)], end_key=[max(wanted), {}],
                   group_level=1)["rows"]
    return {r["key"][0]: r["value"] for r in rows if r["key"][0] in wanted}


def with_balance(db: Database, inv: dict, today: dt.date) -> dict:
    """The invoice with its payments and credit notes, what it still asks for and its state."""
    rows = db.view("billing", "balance_by_invoice", start_key=[inv["number"]], end_key=[inv["number"], {}],
                   reduce=False)["rows"]
    payments = [{"payment": r["key"][2], "amount_cents": -r["value"]} for r in rows if r["key"][1] == 1]
    credits = [{"credit_note": r["key"][2].split(":", 1)[1], "amount_cents": -r["value"]} for r in rows if r["key"][1] == 2]
    unpaid = sum(r["value"] for r in rows)
    st = state(inv, unpaid, today)
    return {**inv, "payments": payments, "credit_notes": credits, "unpaid_cents": unpaid, "state": st,
            "state_title": state_title(st)}


class BillingService:
    """Billing as the person: invoices and payments are written as them (the [Billing] role or a
    Manager, validate_doc_update), the order's steps through `orders`."""

    def __init__(self, db: Database, access: Access, orders: OrderService, clock=utcnow,
                 numbers: NumberAllocator | None = None):
        self.db, self.access, self.orders, self.clock = db, access, orders, clock
        self.numbers = numbers or series("invoice")

    def may_issue(self) -> bool:
        """The [Billing] role at Editor or above, or a Manager (as validate_doc_update decides)."""
        r = billing_rules()
        return self.access.at_least("manager") or (self.access.at_least(r["issue_min_level"])
                                                   and any(role in self.access.roles for role in r["issue_roles"]))

    def _must_issue(self, what: str) -> None:
        if not self.may_issue():   # before a number is taken from the series
            raise Forbidden(f"Only the {' or '.join(billing_rules()['issue_roles'])} role or a Manager may {what}.")

    def _today(self) -> dt.date:
        return today_of(self.clock)

    # ------------------------------------------------------------ invoices
    def issue(self, number: str, rev: str | None = None) -> tuple[list[dict], dict]:
        """Invoice what the order has shipped and no invoice bills yet; the order takes the step
        "invoice" when that is everything (it is then Invoiced), else "bill" (its state stays)."""
        order = self.orders.get(number)
        if rev and rev != order["_rev"]:
            raise Conflict("the order changed since you opened it; reload and try again")
        self._must_issue("issue invoices")
        self.complete(order)
        todo = groups(unbilled(order))
        if not todo:
            raise InvalidInput(f"{order['number']} has nothing shipped that is not invoiced yet")
        customer = self.orders.customer(order["customer"]["id"])
        now, days = self.clock(), terms_days(customer)
        due = (dt.date.fromisoformat(now[:10]) + dt.timedelta(days=days)).isoformat()
        first = not order.get("invoices")
        records = []
        for k, group in enumerate(todo):
            records.append({"number": self.numbers.next(self.db), "shipments": [s["shipment"] for s in group],
                            "issued_at": now, "issued_by": self.access.name, "due_date": due, "terms_days": days,
                            **({"first": True} if first and k == 0 else {})})
        docs = [build(order, rec) for rec in records]
        for rec, doc in zip(records, docs):
            rec["gross_cents"] = doc["totals"]["gross_cents"]
            problem = schema_check(doc, "invoice")
            if problem:
                raise InvalidInput(f"the invoice for {order['number']} cannot be made: {problem}")
        action = "invoice" if everything_billed(order, records) and order["status"] in workflow.transition("invoice")["from"] else "bill"
        order = self.orders.act_on(order, action, changes={"invoices": [*(order.get("invoices") or []), *records]})
        return [self._write(doc) for doc in docs], order

    def complete(self, order: dict) -> list[dict]:
        """Write the invoices the order names that the server does not have yet."""
        named = order.get("invoices") or []
        if not named:
            return []
        ids = [f"invoice:{rec['number']}" for rec in named]
        have = {r["id"] for r in self.db.all_docs(keys=ids)["rows"] if "error" not in r and not (r.get("value") or {}).get("deleted")}
        return [self._write(build(order, rec)) for rec in named if f"invoice:{rec['number']}" not in have]

    def _write(self, doc: dict) -> dict:
        try:
            return self.db.save(doc)
        except Conflict:    # written meanwhile from the same record: the same invoice
            return self.db.get(doc["_id"])

    def of_order(self, order: dict) -> list[dict]:
        """The order's invoices (as the order names them), each with what it still asks for and
        its state; an invoice not written yet shows as its record."""
        named = order.get("invoices") or []
        unpaid = self.unpaid([rec["number"] for rec in named])
        today = self._today()
        out = []
        for rec in named:
            due = unpaid.get(rec["number"], rec["gross_cents"])
            inv = {"number": rec["number"], "due_date": rec["due_date"], "issued_at": rec["issued_at"],
                   "totals": {"gross_cents": rec["gross_cents"]}, "shipments": rec["shipments"]}
            st = state(inv, due, today)
            out.append({**inv, "unpaid_cents": due, "state": st, "state_title": state_title(st)})
        return out

    def unpaid(self, numbers: list[str]) -> dict[str, int]:
        """What each invoice still asks for (invoices the server does not have are left out)."""
        return unpaid(self.db, numbers)

    def listing(self, open_only: bool = True, limit: int = 200) -> list[dict]:
        """Invoices by due date, oldest first (the open ones only, by default), each with what it
        still asks for and its state, as this person may read them."""
        rows = [r for r in self.db.view("billing", "invoices_by_due", limit=5000 if open_only else limit)["rows"]
                if self.access.may_read(r["value"])]
        unpaid = self.unpaid([r["value"]["number"] for r in rows])
        today, out = self._today(), []
        for r in rows:
            inv = {**r["value"], "due_date": r["key"][0], "totals": {"gross_cents": r["value"]["gross_cents"]}}
            due = unpaid.get(inv["number"], inv["gross_cents"])
            if open_only and due <= 0:
                continue
            st = state(inv, due, today)
            out.append({**{k: v for k, v in r["value"].items() if k != "readers"}, "due_date": r["key"][0],
                        "unpaid_cents": due, "state": st, "state_title": state_title(st)})
            if len(out) >= limit:
                break
        return out

    def get(self, number: str) -> dict:
        """One invoice, with its payments, what it still asks for and its state."""
        inv = self.db.get_or_none(f"invoice:{number}") if isinstance(number, str) else None
        if not inv or inv.get("type") != "invoice" or not self.access.may_read(inv):
            raise NotFound(f"no invoice {number}")
        return with_balance(self.db, inv, self._today())

    # ------------------------------------------------------------ credit notes
    def credit(self, invoice_number: str, lines=None, shipping: bool = False, reason: str | None = None) -> dict:
        """A credit note against an issued invoice: `lines` [{line, qty}] of what it billed (None:
        everything not credited yet, shipping included), `shipping` to credit its shipping charge
        too. Never more than the invoice billed less its earlier credit notes."""
        inv = self.get(invoice_number)
        self._must_issue("issue credit notes")
        reason = (reason or "").strip() if isinstance(reason, str) else ""
        fields: dict[str, str] = {}
        if not reason or len(reason) > 500:
            fields["reason"] = "say why the invoice is credited (at most 500 characters)"
        left, shipping_left = self.credit_left(inv)
        if lines is None:
            wanted, shipping = {n: q for n, q in left.items() if q > 0}, True
        else:
            wanted = {}
            if not isinstance(lines, list) or not lines:
                fields["lines"] = "name the invoice's lines and quantities to credit"
                lines = []
            for i, l in enumerate(lines):
                n, q = (l.get("line"), l.get("qty")) if isinstance(l, dict) else (None, None)
                if type(q) is str and q.strip().isdigit():
                    q = int(q)
                if type(n) is not int or n not in left:
                    fields[f"lines[{i}].line"] = f"{inv['number']} has lines {', '.join(map(str, sorted(left)))}"
                elif type(q) is not int or not 0 < q <= left[n] or n in wanted:
                    fields[f"lines[{i}].qty"] = f"line {n}: a whole number from 1 to {left[n]} (billed, not credited yet)"
                else:
                    wanted[n] = q
        if fields:
            raise InvalidInput("; ".join(fields.values()), fields)
        ship_cents = shipping_left if shipping else 0
        if not wanted and not ship_cents:
            raise InvalidInput(f"{inv['number']} has nothing left to credit")
        country = inv["ship_to"].get("country")
        by_line = {l["line"]: l for l in inv["lines"]}
        cn_lines = []
        for n in sorted(wanted):
            il = by_line[n]
            priced = pricing.price_line(wanted[n], il["unit_price_cents"], il["tax_class"], country)
            cn_lines.append({**{k: il[k] for k in ("line", "sku", "description", "unit_price_cents", "tax_class")},
                             "qty": wanted[n], "amount_cents": priced["amount_cents"],
                             "tax_rate_bp": priced["tax_rate_bp"], "tax_cents": priced["tax_cents"]})
        number = series("credit_note").next(self.db)
        doc = {"_id": f"credit_note:{number}", "type": "credit_note", "number": number, "invoice": inv["number"],
               "order": inv["order"], "customer": inv["customer"], "currency": inv["currency"],
               "bill_to": inv["bill_to"], "ship_to": inv["ship_to"], "lines": cn_lines,
               "totals": pricing.priced_totals(cn_lines, country, ship_cents), "reason": reason,
               "issued_at": self.clock(), "issued_by": self.access.name}
        for f in ("customer_po", "readers", "partner"):
            if inv.get(f):
                doc[f] = inv[f]
        problem = schema_check(doc, "credit_note")
        if problem:
            raise InvalidInput(problem)
        return self.db.save(doc)

    def credit_left(self, inv: dict) -> tuple[dict[int, int], int]:
        """What of an invoice (as `get` answers it) no credit note credits yet: units per line,
        and cents of its shipping charge."""
        ids = [f"credit_note:{c['credit_note']}" for c in inv["credit_notes"]]
        earlier = [r["doc"] for r in self.db.all_docs(keys=ids, include_docs=True)["rows"] if r.get("doc")] if ids else []
        left = {l["line"]: l["qty"] for l in inv["lines"]}
        for cn in earlier:
            for l in cn["lines"]:
                left[l["line"]] -= l["qty"]
        return left, inv["totals"]["shipping_cents"] - sum(cn["totals"]["shipping_cents"] for cn in earlier)

    def credit_note(self, number: str) -> dict:
        doc = self.db.get_or_none(f"credit_note:{number}") if isinstance(number, str) else None
        if not doc or doc.get("type") != "credit_note" or not self.access.may_read(doc):
            raise NotFound(f"no credit note {number}")
        return doc

    # ------------------------------------------------------------ payments
    def record_payment(self, data: dict) -> tuple[dict, list[dict]]:
        """A payment received from a customer, shared out over their invoices; returns the payment
        and the orders it closed. `data`: customer, amount (text, "120.50") or amount_cents,
        received_on, method, reference, allocations [{invoice, amount or amount_cents}] (none:
        the customer's oldest unpaid invoices first)."""
        self._must_issue("record payments")
        if not isinstance(data, dict):
            raise InvalidInput("a payment is an object with customer, amount, received_on, method and allocations")
        fields: dict[str, str] = {}
        cid = data.get("customer")
        cid = cid if isinstance(cid, str) and cid.startswith("customer:") else f"customer:{cid}" if isinstance(cid, str) else None
        customer = self.db.get_or_none(cid) if cid else None
        if not customer or customer.get("type") != "customer":
            fields["customer"] = "choose the customer who paid"
        amount = _cents(data, "amount", fields)
        received_on = data.get("received_on") or self.clock()[:10]
        try:
            if dt.date.fromisoformat(str(received_on)) > self._today():
                fields["received_on"] = "a payment cannot be received in the future"
        except ValueError:
            fields["received_on"] = "the date the money arrived, as YYYY-MM-DD"
        method = data.get("method") or "bank_transfer"
        if not isinstance(method, str) or method not in billing_rules()["payment_methods"]:
            fields["method"] = "one of " + ", ".join(billing_rules()["payment_methods"].values())
        reference = data.get("reference") or ""
        if not isinstance(reference, str) or len(reference) > 120:
            fields["reference"] = "at most 120 characters"
        if fields:
            raise InvalidInput("; ".join(fields.values()), fields)
        currency = (customer.get("currency") or "EUR").upper()
        allocations = self._allocations(data.get("allocations"), cid, currency, amount, fields)
        if fields:
            raise InvalidInput("; ".join(fields.values()), fields)
        doc = {"_id": f"payment:{uuid.uuid4().hex}", "type": "payment", "customer": cid, "currency": currency,
               "amount_cents": amount, "received_on": str(received_on), "method": method,
               "allocations": allocations, "recorded_at": self.clock(), "recorded_by": self.access.name}
        if reference.strip():
            doc["reference"] = reference.strip()
        problem = schema_check(doc, "payment")
        if problem:
            raise InvalidInput(problem)
        saved = self.db.save(doc)
        return saved, self._close_paid({a["invoice"] for a in allocations})

    def _allocations(self, given, cid: str, currency: str, amount: int, fields: dict) -> list[dict]:
        open_ = self.open_invoices(cid)
        if given in (None, [], ""):
            out, left = [], amount
            for inv in open_:
                if left <= 0:
                    break
                share = min(left, inv["unpaid_cents"])
                out.append({"invoice": inv["number"], "amount_cents": share})
                left -= share
            if not out:
                fields["allocations"] = "this customer has no unpaid invoice"
            return out
        if not isinstance(given, list):
            fields["allocations"] = "a list of {invoice, amount}"
            return []
        by_number = {inv["number"]: inv for inv in open_}
        out, total = [], 0
        for i, a in enumerate(given):
            where = f"allocations[{i}]"
            if not isinstance(a, dict):
                fields[where] = "an {invoice, amount} pair"
                continue
            inv = by_number.get(a.get("invoice")) if isinstance(a.get("invoice"), str) else None
            if inv is None:
                fields[f"{where}.invoice"] = f"{a.get('invoice')!s:.40} is not an unpaid invoice of this customer"
                continue
            share = _cents(a, "amount", fields, where)
            if share is None:
                continue
            if share > inv["unpaid_cents"]:
                fields[f"{where}.amount"] = f"{inv['number']} asks for {inv['unpaid_cents'] / 100:.2f} {currency} only"
            if any(o["invoice"] == inv["number"] for o in out):
                fields[f"{where}.invoice"] = f"{inv['number']} is named twice"
            out.append({"invoice": inv["number"], "amount_cents": share})
            total += share
        if amount is not None and total > amount:
            fields["allocations"] = f"the shares add up to {total / 100:.2f}, more than the payment"
        return out

    def payments(self, since: str | None = None, until: str | None = None, limit: int = 1000) -> list[dict]:
        """Payments received from `since` to `until` (dates, both inclusive), oldest first."""
        for name, day in (("since", since), ("until", until)):
            if day is not None:
                try:
                    dt.date.fromisoformat(day)
                except (TypeError, ValueError):
                    raise InvalidInput(f"{name} must be a date like 2026-12-01, not {day!r}") from None
        opts = {"limit": limit, **({"start_key": [since]} if since else {}), **({"end_key": [until, {}]} if until else {})}
        return [{"payment": r["id"], "received_on": r["key"][0], **r["value"]}
                for r in self.db.view("billing", "payments_by_date", **opts)["rows"]]

    def open_invoices(self, cid: str) -> list[dict]:
        """The customer's invoices that still ask for something, oldest due first."""
        rows = self.db.view("billing", "invoices_by_customer", start_key=[cid], end_key=[cid, {}])["rows"]
        unpaid = self.unpaid([r["value"]["number"] for r in rows])
        return [{**r["value"], "due_date": r["key"][1], "unpaid_cents": unpaid.get(r["value"]["number"], 0)}
                for r in rows if unpaid.get(r["value"]["number"], 0) > 0]

    def _close_paid(self, numbers: set[str]) -> list[dict]:
        """Close the orders this payment settles: a step from which an order closes (invoiced,
        or after a return), everything shipped invoiced, every invoice paid."""
        closed = []
        orders = {inv["order"] for inv in (self.db.get_or_none(f"invoice:{n}") for n in numbers) if inv}
        for number in sorted(orders):
            order = self.orders.get(number)
            if order["status"] in workflow.transition("close")["from"] and self.close_problem(order, None) is None:
                closed.append(self.orders.act_on(order, "close", "paid in full"))
        return closed

    def paid_in_full(self, order: dict) -> bool:
        named = [rec["number"] for rec in order.get("invoices") or ()]
        unpaid = self.unpaid(named)
        return bool(named) and all(n in unpaid and unpaid[n] <= 0 for n in named)

    # ------------------------------------------------------------ closing
    def close_problem(self, order: dict, reason: str | None) -> str | None:
        """Why the order may not close now, or None. A Manager closes anyway with a reason."""
        if everything_billed(order) and self.paid_in_full(order):
            return None
        if self.access.at_least(billing_rules()["close_override_level"]) and (reason or "").strip():
            return None
        what = ("has shipments not invoiced yet" if not everything_billed(order)
                else "has invoices not paid in full")
        return (f"{order['number']} {what}; it closes when everything shipped is invoiced and paid, "
                f"or a Manager closes it with a reason")


def _cents(data: dict, key: str, fields: dict, where: str = "") -> int | None:
    name = f"{where}.{key}" if where else key
    if type(data.get(f"{key}_cents")) is int and data[f"{key}_cents"] > 0:
        return data[f"{key}_cents"]
    try:
        cents = to_cents(data.get(key), name, maximum=1_000_000_000)
    except InvalidInput:
        cents = None
    if cents is None or cents <= 0:
        fields[name] = "an amount above zero, like 120.50"
        return None
    return cents
