"""Customers, the CRM link: profiles kept by the CRM's external id (`customer:<id>`), upserted
idempotently from a feed or the API; the priority of an order from the profile and the order;
and the credit check. The rules are data (couch_design/rules/priority.json), read here; the
database checks the profile's shape and who writes it (lib/validate_customer.js)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from oms.core import rules, schema
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.inputs import FeedReport, optional_text, upsert_rows
from oms.core.memories import forget_customer
from oms.core.money import format_cents, to_cents
from oms.crm.exposure import order_value
from oms.identity.acl import Access
from oms.store.couch import Conflict, Database, NotFound

# Credit limits and balances may be far larger than one order line's price.
BALANCE_MAX = 10**12

CUSTOMER_ID = schema.pattern("order", "customer.id")   # customer:<the CRM's id>
TIERS = ("gold", "silver", "bronze")
PROFILE_FIELDS = ("name", "tier", "credit_limit_cents", "open_balance_cents", "days_late", "contacts",
                  "partner", "credit_hold", "currency", "bill_to", "ship_tos")
ADDRESS_FIELDS = ("id", "name", "street", "city", "postcode", "country")
# Input spellings a feed may use besides the stored field names (money as "12.50" strings).
_MONEY_ALIASES = {"credit_limit": "credit_limit_cents", "open_balance": "open_balance_cents"}
_CONTACT_COLUMNS = {"contact_name": "name", "contact_email": "email", "contact_phone": "phone"}
# A feed's flat columns for the bill-to address (bill_to_city, ...), besides a nested bill_to.
_BILL_TO_COLUMNS = {f"bill_to_{k}": k for k in ADDRESS_FIELDS if k != "id"}
_ACCEPTED = (set(PROFILE_FIELDS) | set(_MONEY_ALIASES) | set(_CONTACT_COLUMNS) | set(_BILL_TO_COLUMNS)
             | {"id", "external_id", "_id", "type"})


def priority_rules() -> dict:
    return rules.rules()["priority"]["priority"]


def credit_rules() -> dict:
    return rules.credit()


def is_customer_ref(ref) -> bool:
    """'C0001' or 'customer:C0001': the CRM's id of a customer, with or without our prefix."""
    return isinstance(ref, str) and bool(CUSTOMER_ID.match("customer:" + ref.removeprefix("customer:")))


def customer_id(ext_id: str) -> str:
    """'C0001' or 'customer:C0001' -> 'customer:C0001' (InvalidInput for anything else)."""
    ext = ext_id[len("customer:"):] if isinstance(ext_id, str) and ext_id.startswith("customer:") else ext_id
    if not is_customer_ref(ext):
        raise InvalidInput(f"a customer id is 1 to 40 letters, digits or . _ - like \"C0001\", not {ext_id!r}")
    return f"customer:{ext}"


def external_id(doc_id: str) -> str:
    return doc_id[len("customer:"):]


# -- input ---------------------------------------------------------------------------------------
def _signed_cents(value, where: str) -> int:
    if isinstance(value, str) and value.strip().startswith("-"):
        return -to_cents(value.strip()[1:], where, BALANCE_MAX)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return -to_cents(-value, where, BALANCE_MAX)
    return to_cents(value, where, BALANCE_MAX)


def _int(value, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{where} must be a whole number from {minimum}")
    try:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError  # (before int(): int(inf) is an OverflowError)
        n = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"{where} must be a whole number from {minimum}, not {value!r}") from None
    if n < minimum:
        raise InvalidInput(f"{where} must be a whole number from {minimum}, not {n}")
    return n


def _bool(value, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{where} must be true or false, not {value!r}")
    text = value.strip().lower()
    if text in ("1", "true", "yes", "y", "on"):
        return True
    if text in ("0", "false", "no", "n", "off", ""):
        return False
    raise InvalidInput(f"{where} must be true or false, not {value!r}")


def profile_from_input(data: dict) -> dict:
    """The profile fields a feed row or an API body sets, normalised (money in cents). Fields it
    does not mention are left out, so an upsert keeps what the CRM did not send. Empty CSV cells
    count as not sent."""
    if not isinstance(data, dict):
        raise InvalidInput("a customer profile must be a JSON object")
    unknown = sorted(k for k in data if k not in _ACCEPTED)
    if unknown:
        raise InvalidInput(f"unknown customer field(s) {', '.join(unknown)}; allowed: "
                           + ", ".join(sorted(set(PROFILE_FIELDS) | set(_MONEY_ALIASES) | set(_CONTACT_COLUMNS))))
    sent = {k: v for k, v in data.items() if v is not None and not (isinstance(v, str) and not v.strip())}
    for k in ("name", "tier", "currency", "partner", *_CONTACT_COLUMNS):
        if k in sent:  # text is text: {"name": {"a": 1}} is refused, not stored as "{'a': 1}"
            sent[k] = optional_text(sent[k], k)
    out: dict = {}
    if "name" in sent:
        out["name"] = sent["name"]
    if "tier" in sent:
        tier = sent["tier"].lower()
        if tier not in TIERS:
            raise InvalidInput(f"tier must be one of {', '.join(TIERS)}, not {sent['tier']!r}")
        out["tier"] = tier
    for alias, name in _MONEY_ALIASES.items():
        if alias in sent:
            out[name] = _signed_cents(sent[alias], alias) if name == "open_balance_cents" else to_cents(sent[alias], alias, BALANCE_MAX)
        if name in sent:
            out[name] = _int(sent[name], name, minimum=-10**11 if name == "open_balance_cents" else 0)
    if "days_late" in sent:
        out["days_late"] = _int(sent["days_late"], "days_late")
    if "credit_hold" in sent:
        out["credit_hold"] = _bool(sent["credit_hold"], "credit_hold")
    if "currency" in sent:
        out["currency"] = sent["currency"].upper()
    if "partner" in sent:
        out["partner"] = sent["partner"].lower()
    if "contacts" in sent:
        contacts = sent["contacts"]
        if not isinstance(contacts, list) or not all(isinstance(c, dict) for c in contacts):
            raise InvalidInput('contacts must be a list like [{"name": "Ann Buyer", "email": "ann@acme.example"}]')
        out["contacts"] = []
        for i, c in enumerate(contacts):
            fields = {k: optional_text(v, f"contacts[{i}].{k}") for k, v in c.items() if k in ("name", "email", "phone")}
            out["contacts"].append({k: v for k, v in fields.items() if v})
    single = {_CONTACT_COLUMNS[k]: v for k, v in sent.items() if k in _CONTACT_COLUMNS}
    if single:
        out["contacts"] = [single]
    flat = {_BILL_TO_COLUMNS[k]: v for k, v in sent.items() if k in _BILL_TO_COLUMNS}
    if "bill_to" in sent or flat:
        out["bill_to"] = address_from_input(sent.get("bill_to", flat), "bill_to")
    if "ship_tos" in sent:
        ship_tos = sent["ship_tos"]
        if not isinstance(ship_tos, list):
            raise InvalidInput('ship_tos must be a list like [{"id": "MAIN", "name": "Acme, Goods in", '
                               '"city": "Hamburg", "country": "DE"}]')
        out["ship_tos"] = [address_from_input(a, f"ship_tos[{i}]", needs_id=True) for i, a in enumerate(ship_tos)]
        ids = [a["id"] for a in out["ship_tos"]]
        if len(set(ids)) != len(ids):
            raise InvalidInput("each ship-to address needs an id of its own")
    return out


def address_from_input(raw, where: str, needs_id: bool = False) -> dict:
    """An address as a feed, the API or a form sends it: text fields, the country as its
    two-letter code (upper-cased); the schema (rules/schema.json) judges lengths and patterns."""
    if not isinstance(raw, dict):
        raise InvalidInput(f'{where} must be an address like {{"name": "Acme Ltd", "street": "1 Harbour Road", '
                           f'"city": "Hamburg", "postcode": "20457", "country": "DE"}}')
    unknown = sorted(set(raw) - set(ADDRESS_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)} in {where}; allowed: {', '.join(ADDRESS_FIELDS)}")
    out = {}
    for k in ADDRESS_FIELDS:
        value = optional_text(raw.get(k), f"{where}.{k}")
        if value:
            out[k] = value.upper() if k in ("country", "id") else value
    for k in ("name", "city", "country"):
        if k not in out:
            raise InvalidInput(f"{where}.{k} is required")
    if needs_id and "id" not in out:
        raise InvalidInput(f'{where}.id is required, a short code like "MAIN"')
    return out


def ship_to_of(customer: dict, ship_to_id: str | None) -> dict | None:
    """The customer's ship-to address with this id; without one, the first ship-to, else the
    bill-to address; None when the profile holds no address at all."""
    ship_tos = customer.get("ship_tos") or []
    if ship_to_id:
        wanted = str(ship_to_id).strip().upper()
        found = next((a for a in ship_tos if a.get("id") == wanted), None)
        if found is None:
            known = ", ".join(a["id"] for a in ship_tos) or "none"
            raise InvalidInput(f"{customer.get('name', 'the customer')} has no ship-to address {ship_to_id!r} "
                               f"(theirs: {known})")
        return dict(found)
    if ship_tos:
        return dict(ship_tos[0])
    return dict(customer["bill_to"]) if customer.get("bill_to") else None


def row_id(data: dict) -> str:
    for key in ("id", "external_id", "_id"):
        if data.get(key):
            return customer_id(str(data[key]).strip())
    raise InvalidInput('each customer needs its CRM id in "id", e.g. "C0001"')


# -- priority ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Priority:
    value: int
    points: int
    parts: tuple[tuple[str, int], ...]

    def explain(self) -> str:
        return ", ".join(f"{label} {pts:+d}" for label, pts in self.parts) or "no factor applies"


def _days_until(promised: str | None, today: dt.date) -> int | None:
    if not promised:
        return None
    try:
        return (dt.date.fromisoformat(promised) - today).days
    except ValueError:
        return None


def priority(customer: dict, order: dict, today: dt.date, short: bool = False) -> Priority:
    """The priority of `order` (needs totals.net_cents and promised_date) for `customer`, from
    rules/priority.json. `short`: some quantity waits for stock (raises the lateness risk)."""
    r = priority_rules()
    parts: list[tuple[str, int]] = []
    tier = customer.get("tier")
    if tier in r["tier_points"] and r["tier_points"][tier]:
        parts.append((f"{tier} customer", r["tier_points"][tier]))
    net = (order.get("totals") or {}).get("net_cents", 0)
    step = next((s for s in r["value_points"] if net >= s["from_cents"]), None)
    if step and step["points"]:
        parts.append((f"value {format_cents(net)}", step["points"]))
    days = _days_until(order.get("promised_date"), today)
    if days is not None:
        step = next((s for s in r["promised_points"] if days <= s["within_days"]), None)
        if step and step["points"]:
            parts.append(("promised date passed" if days < 0 else f"promised in {days} day{'s' if days != 1 else ''}",
                          step["points"]))
        risk = r["lateness_risk"]
        need = risk["backorder_lead_days"] if short else risk["lead_days"]
        if days < need:
            parts.append(("late risk: waits for stock" if short else "late risk", risk["points"]))
    late = customer.get("days_late") or 0
    step = next((s for s in r["days_late_points"] if late >= s["from_days"]), None)
    if step and step["points"]:
        parts.append((f"pays {late} days late", step["points"]))
    points = sum(p for _, p in parts)
    value = next((b["priority"] for b in r["bands"] if points >= b["from_points"]), r["otherwise"])
    return Priority(value, points, tuple(parts))


# -- credit --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreditDecision:
    ok: bool
    order_cents: int
    open_balance_cents: int
    open_orders_cents: int
    limit_cents: int | None
    reasons: tuple[str, ...] = field(default=())

    @property
    def exposure_cents(self) -> int:
        return self.open_balance_cents + self.open_orders_cents + self.order_cents

    def sentence(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "within the credit limit"

    def record(self, by: str, at: str, decision: str) -> dict:
        """What the order keeps in its `credit` field."""
        rec = {"result": "ok" if self.ok else "hold", "decision": decision, "checked_by": by, "checked_at": at,
               "order_cents": self.order_cents, "open_balance_cents": self.open_balance_cents,
               "open_orders_cents": self.open_orders_cents, "exposure_cents": self.exposure_cents}
        if self.limit_cents is not None:
            rec["limit_cents"] = self.limit_cents
        if self.reasons:
            rec["reasons"] = list(self.reasons)
        return rec


def credit_check(customer: dict, order_cents: int, open_orders_cents: int) -> CreditDecision:
    """Would this order push the customer over their limit (or is the customer otherwise held)?
    `open_orders_cents`: their other orders that count as exposure (not yet in the CRM balance)."""
    r = credit_rules()
    balance = customer.get("open_balance_cents") or 0
    limit = customer.get("credit_limit_cents")
    reasons = []
    if customer.get("credit_hold"):
        reasons.append("the customer is on credit hold in the CRM")
    if (customer.get("days_late") or 0) > r["max_days_late"]:
        reasons.append(f"the customer pays {customer['days_late']} days late (more than {r['max_days_late']})")
    exposure = balance + open_orders_cents + order_cents
    if limit is not None and exposure > limit:
        reasons.append(f"open balance {format_cents(balance)} + open orders {format_cents(open_orders_cents)} + "
                       f"this order {format_cents(order_cents)} = {format_cents(exposure)} exceeds the credit "
                       f"limit {format_cents(limit)}")
    return CreditDecision(not reasons, order_cents, balance, open_orders_cents, limit, tuple(reasons))


# -- the service ---------------------------------------------------------------------------------
class CustomerService:
    """Customer profiles as one identity (a Credit person, a Manager, or the system identity that
    syncs the CRM feed). Every write goes to CouchDB as that identity."""

    def __init__(self, db: Database, access: Access, clock=utcnow):
        self.db, self.access, self.clock = db, access, clock

    def get(self, ref: str) -> dict:
        doc = self.db.get_or_none(customer_id(ref))
        if doc is None or doc.get("type") != "customer":
            raise NotFound(f"no customer {ref}")
        return doc

    def upsert(self, ref: str, data: dict) -> tuple[str, dict]:
        """Create or update the profile `ref` with the fields `data` sends. Idempotent: the same
        input twice writes once ('created'/'updated', then 'unchanged'). A concurrent writer (409)
        makes it read again and re-apply."""
        doc_id = customer_id(ref)
        fields = profile_from_input(data)
        for _ in range(5):
            current = self.db.get_or_none(doc_id)
            if current is not None and current.get("type") != "customer":
                raise InvalidInput(f"{doc_id} is not a customer document")
            base = dict(current) if current else {"_id": doc_id, "type": "customer", "currency": "EUR",
                                                   "contacts": []}
            new = {**base, **fields}
            if current is None and "name" not in new:
                raise InvalidInput(f"a new customer needs a name (customer {external_id(doc_id)})")
            if current is not None and all(current.get(k) == new.get(k) for k in PROFILE_FIELDS):
                return "unchanged", current
            problem = schema.check(new, "customer")
            if problem:
                raise InvalidInput(f"customer {external_id(doc_id)}: {problem}")
            if current is not None and currency_of(new) != currency_of(current) and self.exposure_cents(current):
                raise InvalidInput(f"customer {external_id(doc_id)} has open orders in {currency_of(current)}: "
                                   f"their currency can change to {currency_of(new)} once those are invoiced or cancelled")
            new["updated_at"], new["updated_by"] = self.clock(), self.access.name
            try:
                saved = self.db.save(new)
            except Conflict:
                continue
            forget_customer(self.db.name, doc_id)   # order entry here sees the change at once
            return ("created" if current is None else "updated"), saved
        raise Conflict(f"customer {external_id(doc_id)} keeps changing; try again")

    def import_rows(self, rows, progress=None) -> FeedReport:
        """A CRM feed (rows as dicts, CSV or JSON): good rows go in, each bad row is reported with its number
        and reason; running the same feed again changes nothing."""
        return upsert_rows(rows, self.upsert, row_id, "id", progress)

    def page(self, after: str | None = None, limit: int = 50) -> tuple[list[dict], str | None]:
        """Profiles by id, a page at a time by key (never skip). Returns (docs, next_after)."""
        start = after + "\u0000" if after else "customer:"
        res = self.db.all_docs(start_key=start, end_key="customer:\ufff0", include_docs=True, limit=limit + 1)
        docs = [r["doc"] for r in res["rows"] if r.get("doc")]
        more = len(docs) > limit
        docs = docs[:limit]
        return docs, (docs[-1]["_id"] if more and docs else None)

    def search(self, text: str, limit: int = 10) -> list[dict]:
        """Customers whose CRM id or a word of whose name starts with what was typed, each with
        their credit state as order entry shows it beside the name (credit_state)."""
        words = (text or "").strip().lower().split()
        if not words:
            return []
        first = words[0][:40]
        res = self.db.view("crm", "customers_by_word", start_key=first, end_key=first + "\ufff0", limit=limit * 4)
        found: dict[str, dict] = {}
        for r in res["rows"]:
            v = r["value"]
            if all(w in f"{v['id']} {v['name']}".lower() for w in words[1:]):
                found.setdefault(v["id"], v)
        hits = sorted(found.values(), key=lambda v: v["name"].lower())[:limit]
        if not hits:
            return []
        docs = {r["key"]: r.get("doc") for r in self.db.all_docs(keys=[f"customer:{h['id']}" for h in hits],
                                                                   include_docs=True)["rows"]}
        figures = exposure_by_customer(self.db, {f"customer:{h['id']}": h["currency"] for h in hits})
        out = []
        for h in hits:
            doc = docs.get(f"customer:{h['id']}") or {}
            out.append({**h, "credit": credit_state(doc, figures.get(f"customer:{h['id']}", 0))})
        return out

    def open_orders(self, ref: str) -> dict[str, int]:
        """Value of the customer's orders per state (a grouped _sum over one customer's range)."""
        cid = customer_id(ref)
        res = self.db.view("oms", "orders_by_customer_status", start_key=[cid], end_key=[cid, {}],
                           reduce=True, group_level=2)
        return {r["key"][1]: r["value"] for r in res["rows"]}

    def exposure_cents(self, customer: dict) -> int:
        """What the customer's orders in the states that count as exposure are worth, in the
        customer's currency: one row of credit_exposure_by_customer."""
        return exposure_by_customer(self.db, {customer["_id"]: currency_of(customer)})[customer["_id"]]

    def check(self, order: dict, customer: dict | None = None) -> CreditDecision:
        """`customer`: the profile as read for this very order, if the caller has it."""
        customer = customer or self.get(order["customer"]["id"])
        return credit_check(customer, order_value(order), self.exposure_cents(customer))


def credit_state(customer: dict, exposure_cents: int) -> dict:
    """How a customer stands for credit, as order entry shows it: "ok", "near" (above the rules'
    warning share of the limit), "over" or "hold" (on hold in the CRM or paying too late), with
    what is still free under the limit."""
    decision = credit_check(customer, 0, exposure_cents)
    limit = customer.get("credit_limit_cents")
    used = (customer.get("open_balance_cents") or 0) + exposure_cents
    free = None if limit is None else limit - used
    if not decision.ok:
        state = "over" if free is not None and free < 0 and not customer.get("credit_hold") else "hold"
    elif limit and used >= limit * float(credit_rules()["warn_share"]):
        state = "near"
    else:
        state = "ok"
    return {"state": state, "free_cents": free, "limit_cents": limit, "reasons": list(decision.reasons)}


def currency_of(customer: dict) -> str:
    return (customer.get("currency") or "EUR").upper()


def exposure_by_customer(db, currencies: dict[str, str]) -> dict[str, int]:
    """Each customer's credit exposure from open orders in their own currency (`currencies`:
    customer id -> currency), in one query by key (a customer with none has no row: 0). Asked
    on every submitted order: by key, never by range with a grouped reduce, which PouchDB Server
    recomputes row by row (bench/README.md). The view has a design document of its own: CouchDB
    brings every view of a design document up to date before it answers a query of one, and
    this one is asked on every order. An order is always in its customer's currency (orders.py),
    and a customer's currency changes only while none of their orders counts (upsert)."""
    out = dict.fromkeys(currencies, 0)
    if currencies:
        keys = [[cid, cur] for cid, cur in currencies.items()]
        for r in db.view("credit", "credit_exposure_by_customer", keys=keys, group=True)["rows"]:
            out[r["key"][0]] = r["value"]
    return out


def today_of(clock) -> dt.date:
    """The date part of the service clock (ISO text), so tests can fix 'today'."""
    return dt.date.fromisoformat(clock()[:10])
