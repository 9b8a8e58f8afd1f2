"""Orders: turning a person's input into an order document, and the service that stores, reads
and moves them through the workflow as the acting person. Knows no Flask and no HTTP."""
from __future__ import annotations

import copy
import uuid

from oms.core import schema
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.inputs import optional_text
from oms.core.memories import profiles
from oms.core.money import to_cents, to_qty
from oms.crm import exposure
from oms.crm.customers import is_customer_ref, ship_to_of
from oms.identity.acl import Access
from oms.store.couch import Conflict, Database, Forbidden, NotFound
from oms.store.numbers import NumberAllocator

from . import workflow


def build_lines(raw_lines) -> list[dict]:
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidInput("lines needs at least 1 item: [{\"sku\": \"WID-100\", \"qty\": 3, \"unit_price\": \"12.50\"}]")
    lines = []
    for i, raw in enumerate(raw_lines):
        if not isinstance(raw, dict):
            raise InvalidInput(f"lines[{i}] must be an object with sku, qty and unit_price")
        sku = (optional_text(raw.get("sku"), f"lines[{i}].sku", example="WID-100") or "").upper()
        qty = to_qty(raw.get("qty"), f"lines[{i}].qty")
        price = to_cents(raw.get("unit_price"), f"lines[{i}].unit_price")
        line = {"line": i + 1, "sku": sku, "qty": qty, "unit_price_cents": price, "amount_cents": qty * price}
        description = optional_text(raw.get("description"), f"lines[{i}].description")
        if description:
            line["description"] = description
        lines.append(line)
    return lines


def totals(lines: list[dict]) -> dict:
    return {"net_cents": sum(l["amount_cents"] for l in lines), "qty": sum(l["qty"] for l in lines)}


def version_id(doc: dict) -> str:
    """Where an amendment keeps the revision it replaces: order:SO-…:vN."""
    return f"{doc['_id']}:v{doc['version']}"


def order_id(number: str) -> str:
    return number if number.startswith("order:") else f"order:{number}"


_ALLOWED_INPUT = {"customer", "lines", "currency", "promised_date", "notes", "status", "readers",
                  "authors", "priority", "external_ref", "ship_to", "customer_po", "requested_date"}


def _currency(data: dict, customer: dict) -> str:
    """The customer's currency: every order of a customer is in it, so that what they owe is
    never a sum of different currencies."""
    theirs = (customer.get("currency") or "EUR").upper()
    asked = optional_text(data.get("currency"), "currency", example="EUR")
    if asked and asked.upper() != theirs:
        raise InvalidInput(f"{customer.get('name', 'this customer')} buys in {theirs}: an order of theirs cannot be in "
                           f"{asked.upper()}")
    return theirs


def _addresses(data: dict, customer: dict) -> dict:
    """Bill-to from the customer's profile; ship-to chosen by the id of one of the customer's
    ship-to addresses (the first when none is named): an order never carries an address the
    customer's profile does not hold."""
    out = {}
    ship_to_id = data.get("ship_to")
    if isinstance(ship_to_id, dict):
        ship_to_id = ship_to_id.get("id")
    ship_to_id = optional_text(ship_to_id, "ship_to", example="MAIN")
    ship_to = ship_to_of(customer, ship_to_id)
    if ship_to:
        out["ship_to"] = ship_to
    if customer.get("bill_to"):
        out["bill_to"] = dict(customer["bill_to"])
    return out


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
        "currency": _currency(data, customer),
        "status": status, "priority": data.get("priority", 3), "version": 1,
        "created_by": access.name, "created_at": now, "updated_by": access.name, "updated_at": now,
        # Notes Authors field: the creator and their roles may edit it later as Authors.
        "authors": data.get("authors") or [access.name, *[r for r in access.roles if r == "[Sales]"]],
        "history": [workflow.history_entry(access, now, "create", None, status)],
    }
    doc.update(_addresses(data, customer))
    for field in ("promised_date", "notes", "external_ref", "customer_po", "requested_date"):
        value = optional_text(data.get(field), field)
        if value:
            doc[field] = value
    if data.get("readers"):
        doc["readers"] = data["readers"]
    problem = schema.order_problem(doc)
    if problem:
        raise InvalidInput(problem)
    if status not in ("draft", "submitted"):
        raise InvalidInput(f"a new order starts as draft or submitted, not {status!r}")
    return doc




class OrderService:
    """Orders as one person sees and changes them. Every call goes to CouchDB as that person."""

    def __init__(self, db: Database, access: Access, numbers: NumberAllocator, clock=utcnow):
        self.db, self.access, self.numbers, self.clock = db, access, numbers, clock

    def customer(self, ref, fresh: bool = False) -> dict:
        """The customer profile an order names; a few seconds old at most unless `fresh`."""
        ref_id = ref.get("id") if isinstance(ref, dict) else ref
        if not is_customer_ref(ref_id):
            raise InvalidInput('customer must be a customer id like "C0001"')
        cid = ref_id if ref_id.startswith("customer:") else f"customer:{ref_id}"
        doc = None if fresh else profiles.get((self.db.name, cid))
        if doc is None:
            try:
                doc = self.db.get(cid)
            except NotFound:
                raise InvalidInput(f"unknown customer {ref_id!r}") from None
            if doc.get("type") != "customer":
                raise InvalidInput(f"unknown customer {ref_id!r}")
            profiles.put((self.db.name, cid), doc)
        return doc

    def create(self, data: dict, number: str | None = None, customer: dict | None = None) -> dict:
        """`number`: one reserved earlier (idempotent retries, imports); otherwise the next one.
        `customer`: the profile the caller read for this very order (saves reading it again)."""
        return self.db.save(self.build(data, number, customer))

    def build(self, data: dict, number: str | None = None, customer: dict | None = None) -> dict:
        """The new order's first revision, checked and numbered, not yet written."""
        if not isinstance(data, dict):
            raise InvalidInput("the order must be a JSON object")
        if self.access.level == "reader" or not self.access.at_least("depositor"):
            raise Forbidden(f"As {self.access.level_title} you may not create orders; Depositors and Authors may.")
        customer = customer or self.customer(data.get("customer"))
        # Built and checked before taking a number, so bad input never burns one.
        doc = new_order(data, "SO-000000", self.access, customer, self.clock())
        number = number or self.numbers.next(self.db)
        doc.update(_id=order_id(number), number=number)
        return doc

    def get(self, number_or_id: str) -> dict:
        """The order, or NotFound: an order whose Readers field leaves this person out does not
        exist for them (as in Notes), and a Depositor reads none."""
        doc = self.db.get(order_id(number_or_id))
        if doc.get("type") != "order" or not self.access.may_read(doc):
            raise NotFound(f"no order {number_or_id}")
        return doc

    def act(self, number_or_id: str, action: str, reason: str | None = None,
            changes: dict | None = None, rev: str | None = None) -> dict:
        if action == "amend":  # an amendment keeps the old version: it has its own door
            raise InvalidInput('"Amend" takes the new lines: use the Amend page or the API action '
                               'with "lines"')
        doc = self.get(number_or_id)
        if rev and rev != doc["_rev"]:
            raise Conflict("the order changed since you opened it; reload and try again")
        return self.act_on(doc, action, reason, changes)

    def act_on(self, doc: dict, action: str, reason: str | None = None, changes: dict | None = None) -> dict:
        """Take `action` on the revision in hand (one this service just read or wrote), without
        reading it again: a newer revision on the server makes the write a Conflict."""
        if doc.get("type") != "order" or not self.access.may_read(doc):
            raise NotFound(f"no order {doc.get('number')}")
        new = workflow.apply(self.access, doc, action, self.clock(), reason, changes)
        problem = schema.order_problem(new)
        if problem:  # bad input is a 400 here, before validate_doc_update would refuse it (403)
            raise InvalidInput(problem)
        saved = self.db.save(new)
        exposure.moved_into_exposure(self.db.name, doc, saved)
        return saved

    def amend(self, number_or_id: str, lines_input, reason: str | None, rev: str | None = None) -> dict:
        """Amend after confirmation: keep the current revision as a version document
        (order:SO-…:vN), then write version N+1 with the new lines, back to Submitted so credit
        and availability run again. Lines already shipped keep their SKU and shipped quantity."""
        doc = self.get(number_or_id)
        if rev and rev != doc["_rev"]:
            raise Conflict("the order changed since you opened it; reload and try again")
        if not (reason or "").strip():
            raise InvalidInput('"Amend" needs a reason')
        lines = build_lines(lines_input)
        for old in doc["lines"]:
            shipped = old.get("shipped_qty", 0)
            if not shipped:
                continue
            new = next((l for l in lines if l["line"] == old["line"]), None)
            if not new or new["sku"] != old["sku"] or new["qty"] < shipped:
                raise InvalidInput(f"line {old['line']} has {shipped} shipped: keep its SKU and at least that quantity")
            new["shipped_qty"] = shipped
        # What was reserved for the old lines is given back (allocations cleared) and decided anew.
        # The new revision is decided and checked first, so a refused amendment keeps no version.
        changes = {"lines": lines, "totals": totals(lines), "version": doc["version"] + 1,
                   "previous_versions": [*doc.get("previous_versions", []), version_id(doc)],
                   "allocations": None, "backorders": None}
        new_doc = workflow.apply(self.access, doc, "amend", self.clock(), reason, changes)
        problem = schema.order_problem(new_doc)
        if problem:
            raise InvalidInput(problem)
        self._keep_version(doc, reason)
        return self.db.save(new_doc)

    def _keep_version(self, doc: dict, reason: str) -> dict:
        version = {k: copy.deepcopy(v) for k, v in doc.items() if k not in ("_rev", "_id", "type")}
        version.update(_id=version_id(doc), type="order_version", order=doc["_id"],
                       superseded_by=self.access.name, superseded_at=self.clock(), reason=reason)
        try:
            return self.db.save(version)
        except Conflict:
            # A retried amendment already kept this version (versions never change): reuse it.
            return self.db.get(version["_id"])

    def versions(self, number_or_id: str) -> list[dict]:
        doc = self.get(number_or_id)
        return [self.db.get(v) for v in doc.get("previous_versions", [])]

    def comment(self, number_or_id: str, text: str) -> dict:
        """A response document under the order (Notes main document + responses)."""
        doc = self.get(number_or_id)
        text = (text or "").strip()
        if not text or len(text) > 4000:
            raise InvalidInput("a comment needs text (1 to 4000 characters)")
        comment = {"_id": f"comment:{uuid.uuid4().hex}", "type": "comment", "parent": doc["_id"],
                   "text": text, "by": self.access.name, "at": self.clock()}
        if doc.get("partner"):
            comment["partner"] = doc["partner"]  # so the push replication takes it to the partner
        return self.db.save(comment)

    def comments(self, number_or_id: str) -> list[dict]:
        doc = self.get(number_or_id)  # Readers fields: no order, no responses
        res = self.db.view("oms", "comments_by_parent", start_key=[doc["_id"]], end_key=[doc["_id"], {}])
        return [{"id": r["id"], **r["value"]} for r in res["rows"]]
