"""Orders: turning a person's input into an order document, and the service that stores, reads
and moves them through the workflow as the acting person. Knows no Flask and no HTTP."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from . import schema, workflow
from .acl import Access
from .couch import Conflict, Database, NotFound
from .errors import InvalidInput
from .numbers import NumberAllocator


def utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_cents(value, where: str) -> int:
    """'12.50', 12.5 or 12 -> 1250; refuses negatives, more than 2 decimals and non-numbers."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput(f"{where} is required, e.g. \"12.50\"")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"{where} must be an amount like \"12.50\", not {value!r}") from None
    if not d.is_finite() or d < 0 or d != d.quantize(Decimal("0.01")):
        raise InvalidInput(f"{where} must be an amount of 0 or more with at most 2 decimals, like \"12.50\", not {value!r}")
    return int(d * 100)


def to_qty(value, where: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{where} must be a whole number from 1, e.g. 3")
    try:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        q = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where} must be a whole number from 1, e.g. 3, not {value!r}") from None
    return q


def format_cents(cents: int | None) -> str:
    return "" if cents is None else f"{cents / 100:,.2f}"


def build_lines(raw_lines) -> list[dict]:
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidInput("lines needs at least 1 item: [{\"sku\": \"WID-100\", \"qty\": 3, \"unit_price\": \"12.50\"}]")
    lines = []
    for i, raw in enumerate(raw_lines):
        if not isinstance(raw, dict):
            raise InvalidInput(f"lines[{i}] must be an object with sku, qty and unit_price")
        sku = str(raw.get("sku") or "").strip().upper()
        qty = to_qty(raw.get("qty"), f"lines[{i}].qty")
        price = to_cents(raw.get("unit_price"), f"lines[{i}].unit_price")
        line = {"line": i + 1, "sku": sku, "qty": qty, "unit_price_cents": price, "amount_cents": qty * price}
        if raw.get("description"):
            line["description"] = str(raw["description"]).strip()
        lines.append(line)
    return lines


def totals(lines: list[dict]) -> dict:
    return {"net_cents": sum(l["amount_cents"] for l in lines), "qty": sum(l["qty"] for l in lines)}


def order_id(number: str) -> str:
    return number if number.startswith("order:") else f"order:{number}"


_ALLOWED_INPUT = {"customer", "lines", "currency", "promised_date", "notes", "status", "readers",
                  "authors", "priority", "external_ref"}


def new_order(data: dict, number: str, access: Access, customer: dict, now: str) -> dict:
    """The first revision of an order from input `data` (API JSON or the web form)."""
    if not isinstance(data, dict):
        raise InvalidInput("the order must be a JSON object")
    unknown = sorted(set(data) - _ALLOWED_INPUT)
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ALLOWED_INPUT))}")
    status = data.get("status") or "draft"
    lines = build_lines(data.get("lines"))
    doc = {
        "_id": order_id(number), "type": "order", "number": number,
        "customer": {"id": customer["_id"], "name": customer["name"]},
        "lines": lines, "totals": totals(lines),
        "currency": str(data.get("currency") or customer.get("currency") or "EUR").upper(),
        "status": status, "priority": data.get("priority", 3), "version": 1,
        "created_by": access.name, "created_at": now, "updated_by": access.name, "updated_at": now,
        # Notes Authors field: the creator and their roles may edit it later as Authors.
        "authors": data.get("authors") or [access.name, *[r for r in access.roles if r == "[Sales]"]],
        "history": [workflow.history_entry(access, now, "create", None, status)],
    }
    for field in ("promised_date", "notes", "external_ref"):
        if data.get(field):
            doc[field] = str(data[field]).strip()
    if data.get("readers"):
        doc["readers"] = data["readers"]
    problem = schema.order_problem(doc)
    if problem:
        raise InvalidInput(problem)
    if status not in ("draft", "submitted"):
        raise InvalidInput(f"a new order starts as draft or submitted, not {status!r}")
    return doc


_CUSTOMER_REF = re.compile(r"^(customer:)?[A-Za-z0-9._-]{1,40}$")


class OrderService:
    """Orders as one person sees and changes them. Every call goes to CouchDB as that person."""

    def __init__(self, db: Database, access: Access, numbers: NumberAllocator, clock=utcnow):
        self.db, self.access, self.numbers, self.clock = db, access, numbers, clock

    def customer(self, ref) -> dict:
        ref_id = ref.get("id") if isinstance(ref, dict) else ref
        if not isinstance(ref_id, str) or not _CUSTOMER_REF.match(ref_id):
            raise InvalidInput('customer must be a customer id like "C0001"')
        cid = ref_id if ref_id.startswith("customer:") else f"customer:{ref_id}"
        try:
            doc = self.db.get(cid)
        except NotFound:
            raise InvalidInput(f"unknown customer {ref_id!r}") from None
        if doc.get("type") != "customer":
            raise InvalidInput(f"unknown customer {ref_id!r}")
        return doc

    def create(self, data: dict, number: str | None = None) -> dict:
        """`number`: one reserved earlier (idempotent retries, imports); otherwise the next one."""
        if not isinstance(data, dict):
            raise InvalidInput("the order must be a JSON object")
        customer = self.customer(data.get("customer"))
        # Validate before taking a number, so bad input never burns one.
        new_order(data, "SO-000000", self.access, customer, self.clock())
        doc = new_order(data, number or self.numbers.next(self.db), self.access, customer, self.clock())
        return self.db.save(doc)

    def get(self, number_or_id: str) -> dict:
        """The order, or NotFound: an order whose Readers field leaves this person out does not
        exist for them (as in Notes), and a Depositor reads none."""
        doc = self.db.get(order_id(number_or_id))
        if doc.get("type") != "order" or not self.access.may_read(doc):
            raise NotFound(f"no order {number_or_id}")
        return doc

    def act(self, number_or_id: str, action: str, reason: str | None = None,
            changes: dict | None = None, rev: str | None = None) -> dict:
        doc = self.get(number_or_id)
        if rev and rev != doc["_rev"]:
            raise Conflict("the order changed since you opened it; reload and try again")
        new = workflow.apply(self.access, doc, action, self.clock(), reason, changes)
        return self.db.save(new)
