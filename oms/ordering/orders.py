"""Orders: turning a person's input into an order document, and the service that stores, reads
and moves them through the workflow as the acting person. Knows no Flask and no HTTP."""
from __future__ import annotations

import copy
import uuid

from oms.core import rules, schema
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.inputs import optional_text
from oms.core.memories import profiles
from oms.core.money import format_cents, to_cents, to_qty
from oms.catalog import pricing
from oms.catalog import products
from oms.catalog.products import Book
from oms.crm import exposure
from oms.crm.customers import is_customer_ref, ship_to_of
from oms.identity.acl import Access
from oms.store.couch import Conflict, Database, Forbidden, NotFound
from oms.store.numbers import NumberAllocator

from . import workflow

# Steps of a return authorisation (oms/billing/returns.py): each carries the return it moves.
RETURN_STEPS = ("request_return", "receive_return", "refund", "replace")


def _quantity(value, where: str) -> int:
    qty = to_qty(value, f"{where}: quantity")
    most = rules.schema()["order"]["lines[].qty"]["max"]
    if not 1 <= qty <= most:
        shown = qty if abs(qty) < 10**12 else "a number that large"
        raise InvalidInput(f"{where}: quantity must be a whole number from 1 to {most:,}, not {shown}")
    return qty


def read_lines(raw_lines, partial: bool = False):
    """The lines as sent ({sku, qty, unit_price?, description?}), checked one by one; every problem
    is collected (InvalidInput.fields, keyed "lines[i].field") and raised together. A line
    without a unit price takes the price the catalog offers (price_lines). `partial`: return
    (every line with what of it reads well, the problems) instead, so that the products of lines
    whose quantity is wrong can be looked at in the same breath."""
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidInput("an order needs at least one line: a product and a quantity",
                           {"lines": "an order needs at least one line: a product and a quantity"})
    most = rules.schema()["order"]["lines"]["max_items"]
    if len(raw_lines) > most:
        raise InvalidInput(f"an order holds at most {most} lines, not {len(raw_lines)}",
                           {"lines": f"an order holds at most {most} lines, not {len(raw_lines)}"})
    lines, problems = [], {}
    for i, raw in enumerate(raw_lines):
        where = f"Line {i + 1}"
        if not isinstance(raw, dict):
            problems[f"lines[{i}]"] = f"{where} must be an object with sku, qty and unit_price"
            continue
        line: dict = {"line": i + 1}
        for field, read in (("sku", lambda v: (optional_text(v, f"{where}: the product", example="WID-100") or "").upper()),
                            ("qty", lambda v: _quantity(v, where)),
                            ("unit_price", lambda v: None if v in (None, "") else to_cents(v, f"{where}: unit price")),
                            ("description", lambda v: optional_text(v, f"{where}: description"))):
            try:
                line[field] = read(raw.get(field))
            except InvalidInput as exc:
                problems[f"lines[{i}].{field}"] = exc.reason
        if "sku" in line and not line["sku"]:
            problems[f"lines[{i}].sku"] = f"{where}: choose a product (its SKU, e.g. WID-100)"
        lines.append(line)
    if partial:
        return lines, problems
    if problems:
        raise InvalidInput(next(iter(problems.values())), problems)
    return lines


def price_lines(lines: list[dict], book: Book, customer: dict, currency: str, country: str | None,
                today: str) -> list[dict]:
    """Each line priced from the catalog: it must name an active product; its unit price is the
    one a person gave, else the best the customer's price lists offer (pricing.best_price); it
    keeps what was offered (list_price_cents, price_source), so a discount can be judged, and
    its tax by the ship-to country. Every problem is collected and raised together."""
    out, problems = [], {}
    for i, line in enumerate(lines):
        where, sku = f"Line {line['line']}", line.get("sku")
        if not sku:
            continue   # read_lines said what is wrong with it
        product = book.product(sku)
        if product is None:
            problems[f"lines[{i}].sku"] = f"{where}: {sku} is not a product we sell"
            continue
        if product.get("status") != "active":
            problems[f"lines[{i}].sku"] = f"{where}: {sku} ({product['description']}) is withdrawn and can no longer be ordered"
            continue
        if "qty" not in line:
            continue   # its product is looked at; its price waits for a quantity that reads
        try:
            offer, source = pricing.best_price(product, list(book.price_lists), customer, line["qty"], currency,
                                               today, country)
        except InvalidInput:
            problems[f"lines[{i}].sku"] = f"{where}: {sku} has no price in {currency}"
            continue
        unit = offer if line.get("unit_price") is None else line["unit_price"]
        priced = pricing.price_line(line["qty"], unit, product["tax_class"], country)
        out.append({"line": line["line"], "sku": sku, "description": line.get("description") or product["description"],
                    "qty": line["qty"], "unit_price_cents": unit, "list_price_cents": offer, "price_source": source,
                    "amount_cents": priced["amount_cents"], "tax_class": product["tax_class"],
                    "tax_rate_bp": priced["tax_rate_bp"], "tax_cents": priced["tax_cents"]})
    if problems:
        raise InvalidInput(next(iter(problems.values())), problems)
    return out


def totals(lines: list[dict], country: str | None = None, shipping_cents: int = 0) -> dict:
    """An order's sums. Priced lines (with their tax) give net, shipping, tax and gross by the
    rulebook's rounding (oms/catalog/pricing.py); lines kept from before the catalog (a legacy
    Notes import) only net and quantity."""
    if lines and all("tax_cents" in l for l in lines):
        return pricing.priced_totals(lines, country, shipping_cents)
    return {"net_cents": sum(l["amount_cents"] for l in lines), "qty": sum(l["qty"] for l in lines)}


def skus_of(raw_lines) -> list[str]:
    """The SKUs input lines name, as read_lines reads them (for fetching their products first)."""
    if not isinstance(raw_lines, list):
        return []
    return [l["sku"].strip().upper() for l in raw_lines if isinstance(l, dict) and isinstance(l.get("sku"), str)]


def order_problem(doc: dict) -> str | None:
    """The first thing validate_doc_update would refuse in an order's shape and sums (tax too)."""
    return schema.order_problem(doc) or pricing.order_tax_problem(doc)


def quote(svc: "OrderService", data) -> dict:
    """What `data` would become as a new order by this person, priced, taxed and totalled, and
    why it would wait for price approval; nothing is written and no number is taken."""
    if not isinstance(data, dict):
        raise InvalidInput("the order must be a JSON object")
    customer = svc.customer(data.get("customer"))
    wanted = {**data, "status": "submitted"}
    doc = new_order(wanted, "SO-000000", svc.access, customer, svc.clock(), svc.book(data.get("lines")))
    keep = ("customer", "currency", "ship_to", "bill_to", "lines", "totals")
    return {**{k: doc[k] for k in keep if k in doc},
            "needs_price_approval": approval_needs(doc, svc.access)}


def legacy_lines(raw_lines) -> list[dict]:
    """Lines of an order kept from another system (a Notes DXL import): the prices it had, no
    catalog and no tax; such an order is history, not a new sale."""
    out = []
    for line in read_lines(raw_lines):
        unit = line.get("unit_price")
        if unit is None:
            raise InvalidInput(f"Line {line['line']}: unit price is required")
        item = {"line": line["line"], "sku": line["sku"], "qty": line["qty"], "unit_price_cents": unit,
                "amount_cents": line["qty"] * unit}
        if line.get("description"):
            item["description"] = line["description"]
        out.append(item)
    return out


def approval_needs(doc: dict, access: Access) -> list[str]:
    """Why this order, priced by this person, needs price approval (empty: it does not): a line
    discounted beyond their limit (rules/pricing.json), or an order value above the ceiling."""
    reasons = []
    limit = pricing.discount_limit_bp(access.level, access.roles)
    for line in doc["lines"]:
        # a line kept from before the catalog has no offered price: no discount to judge
        off = pricing.discount_bp(line.get("list_price_cents", 0), line["unit_price_cents"])
        if off > limit:
            reasons.append(f"line {line['line']} ({line['sku']}) is {off / 100:g}% below the offered price; "
                           f"you may give up to {limit / 100:g}%")
    gross = doc["totals"].get("gross_cents")
    may_approve = workflow.may_take(access, workflow.transition("approve_price"))
    if gross is not None and not may_approve and pricing.beyond_ceiling(gross, doc["currency"]):
        ceiling = pricing.pricing_rules()["order_ceiling_cents"][doc["currency"]]
        reasons.append(f"the order's value {format_cents(gross)} {doc['currency']} is above the "
                       f"{format_cents(ceiling)} {doc['currency']} that needs approval")
    return reasons


def version_id(doc: dict) -> str:
    """Where an amendment keeps the revision it replaces: order:SO-…:vN."""
    return f"{doc['_id']}:v{doc['version']}"


def order_id(number: str) -> str:
    return number if number.startswith("order:") else f"order:{number}"


_ALLOWED_INPUT = {"customer", "lines", "currency", "promised_date", "notes", "status", "readers",
                  "authors", "priority", "external_ref", "ship_to", "customer_po", "requested_date", "shipping"}


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


def new_order(data: dict, number: str, access: Access, customer: dict, now: str, book: Book) -> dict:
    """The first revision of an order from input `data` (API JSON, the web form, an import, a
    partner), priced from `book` (the catalog). Every problem with the input is collected and
    raised together (InvalidInput.fields). Asked to be submitted with a discount beyond the
    person's limit or above the value ceiling, it starts in price approval instead."""
    if not isinstance(data, dict):
        raise InvalidInput("the order must be a JSON object")
    unknown = sorted(set(data) - _ALLOWED_INPUT)
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ALLOWED_INPUT))}")
    status = data.get("status") or "draft"
    if status not in ("draft", "submitted"):
        raise InvalidInput(f"a new order starts as draft or submitted, not {status!r}", {"status": "draft or submitted"})
    problems: dict[str, str] = {}

    def collect(field: str, read):
        try:
            return read()
        except InvalidInput as exc:
            problems.update(exc.fields or {field: exc.reason})
            return None

    currency = collect("currency", lambda: _currency(data, customer))
    addresses = collect("ship_to", lambda: _addresses(data, customer)) or {}
    shipping = collect("shipping", lambda: 0 if data.get("shipping") in (None, "") else to_cents(data["shipping"], "shipping"))
    read = collect("lines", lambda: read_lines(data.get("lines"), partial=True))
    lines = None
    country = (addresses.get("ship_to") or {}).get("country")
    if read:
        lines, line_problems = read
        problems.update(line_problems)
        if lines and currency:
            # every line's product is looked at, also beside a line whose quantity is wrong
            lines = collect("lines", lambda: price_lines(lines, book, customer, currency, country, now[:10]))
    texts = {}
    for field in ("promised_date", "notes", "external_ref", "customer_po", "requested_date"):
        texts[field] = collect(field, lambda field=field: optional_text(data.get(field), field))
    if problems:
        raise InvalidInput(next(iter(problems.values())), problems)
    doc = {
        "_id": order_id(number), "type": "order", "number": number,
        # The tier as it was when the order was taken: the Review groups orders by it.
        "customer": {"id": customer["_id"], "name": customer["name"],
                     **({"tier": customer["tier"]} if customer.get("tier") else {})},
        "lines": lines, "totals": totals(lines, country, shipping or 0),
        "currency": currency,
        "status": status, "priority": data.get("priority", 3), "version": 1,
        "created_by": access.name, "created_at": now, "updated_by": access.name, "updated_at": now,
        # Notes Authors field: the creator and their roles may edit it later as Authors.
        "authors": data.get("authors") or [access.name, *[r for r in access.roles if r == "[Sales]"]],
    }
    doc.update(addresses)
    doc.update({k: v for k, v in texts.items() if v})
    if data.get("readers"):
        doc["readers"] = data["readers"]
    needs = approval_needs(doc, access) if status == "submitted" else []
    if needs:
        status = doc["status"] = "price_approval"
    doc["history"] = [workflow.history_entry(access, now, "create", None, status,
                                             reason="; ".join(needs) or None)]
    # The shape and sums; its tax was computed just above by the rulebook (order_problem checks
    # it for documents that come from elsewhere).
    problem = schema.order_problem(doc)
    if problem:
        raise InvalidInput(problem)
    return doc


def _customer_problem(reason: str) -> InvalidInput:
    return InvalidInput(reason, {"customer": reason})


class OrderService:
    """Orders as one person sees and changes them. Every call goes to CouchDB as that person."""

    def __init__(self, db: Database, access: Access, numbers: NumberAllocator, clock=utcnow):
        self.db, self.access, self.numbers, self.clock = db, access, numbers, clock

    def customer(self, ref, fresh: bool = False) -> dict:
        """The customer profile an order names; a few seconds old at most unless `fresh`."""
        ref_id = ref.get("id") if isinstance(ref, dict) else ref
        if not is_customer_ref(ref_id):
            raise _customer_problem('customer must be a customer id like "C0001"')
        cid = ref_id if ref_id.startswith("customer:") else f"customer:{ref_id}"
        doc = None if fresh else profiles.get((self.db.name, cid))
        if doc is None:
            try:
                doc = self.db.get(cid)
            except NotFound:
                raise _customer_problem(f"unknown customer {ref_id!r}") from None
            if doc.get("type") != "customer":
                raise _customer_problem(f"unknown customer {ref_id!r}")
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
        doc = new_order(data, "SO-000000", self.access, customer, self.clock(), self.book(data.get("lines")))
        number = number or self.numbers.next(self.db)
        doc.update(_id=order_id(number), number=number)
        return doc

    def book(self, raw_lines) -> Book:
        """The catalog the lines name (products and price lists), as order entry prices them."""
        return products.book(self.db, skus_of(raw_lines))

    def reprice(self, doc: dict, raw_lines) -> tuple[list[dict], dict]:
        """New lines for an order as it stands (its customer, currency and ship-to): (lines, totals)."""
        customer = self.customer(doc["customer"]["id"])
        country = (doc.get("ship_to") or {}).get("country")
        lines = price_lines(read_lines(raw_lines), self.book(raw_lines), customer, doc["currency"], country,
                            self.clock()[:10])
        return lines, totals(lines, country, (doc.get("totals") or {}).get("shipping_cents", 0))

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
        if action in ("bill", "invoice") and "invoices" not in (changes or {}):
            raise InvalidInput("An order is invoiced by issuing its invoices: use Invoice on the order page "
                               "or POST /api/v1/orders/<number>/invoices")
        if action in RETURN_STEPS and "returns" not in (changes or {}):
            raise InvalidInput("A return names its lines: use Returns on the order page "
                               "or POST /api/v1/orders/<number>/returns")
        if action == "approve_price":
            changes = {**(changes or {}), "price_approval": {"by": self.access.name, "at": self.clock(),
                                                             "reasons": approval_needs(doc, Access("", "author", ()))}}
        needs = approval_needs(doc, self.access) if action == "submit" else []
        if needs:   # beyond this person's discount limit or the value ceiling: the step is to ask
            action, reason = "ask_price_approval", "; ".join(needs)
        new = workflow.apply(self.access, doc, action, self.clock(), reason, changes)
        problem = order_problem(new)
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
        lines, new_totals = self.reprice(doc, lines_input)
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
        changes = {"lines": lines, "totals": new_totals, "version": doc["version"] + 1,
                   "previous_versions": [*doc.get("previous_versions", []), version_id(doc)],
                   "allocations": None, "backorders": None}
        new_doc = workflow.apply(self.access, doc, "amend", self.clock(), reason, changes)
        problem = order_problem(new_doc)
        if problem:
            raise InvalidInput(problem)
        needs = approval_needs(new_doc, self.access)
        if needs:
            raise InvalidInput("This amendment needs price approval, which an amendment cannot ask for: "
                               + "; ".join(needs))
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
