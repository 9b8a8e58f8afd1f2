"""Import a Domino XML (DXL) export of a Notes order database: customers, orders with their
history, and comment responses; Readers/Authors items become our readers/authors fields; a
report says what did not map.

DXL as Domino writes it (docs/import-export.md has the mapping table):
  <database xmlns='http://www.lotus.com/dxl' title=... replicaid=...>
    <acl>...</acl>
    <document form='Order' [parent='<UNID>' response='true']>
      <noteinfo unid='...'><created><datetime>20190402T101500,00+02</datetime></created>...</noteinfo>
      <updatedby><name>CN=Sally Sales/OU=Sales/O=OrderDesk</name>...</updatedby>
      <revisions><datetime>...</datetime>...</revisions>
      <item name='X' [names|readers|authors='true']><text>|<number>|<datetime>|<textlist>|<numberlist>|<datetimelist>
    </document>
An order keeps its Notes history as legacy entries followed by one "import" entry, written as the
system identity or a Manager (validate_doc_update: lib/records.js validateImportedOrder).
Orders are claimed by their Notes UNID, so importing the same export again adds nothing."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from oms.core import memories, rules
from oms.core.errors import InvalidInput
from oms.ordering import orders
from oms.store.idempotency import fingerprint

from . import xmlformat
from .pipeline import CustomerHandler, ImportContext, OrderClaim, ProductHandler, Report, create_claimed, keep_report, upsert
from .records import ImportRefused, Record

# Notes order statuses -> our workflow states
STATUSES = {"draft": "draft", "new": "draft", "submitted": "submitted", "awaiting credit": "submitted",
            "on credit hold": "credit_hold", "credit hold": "credit_hold", "approved": "approved",
            "allocated": "allocated", "picking": "picking", "partially shipped": "partially_shipped",
            "shipped": "shipped", "delivered": "delivered", "invoiced": "invoiced", "closed": "closed",
            "on hold": "on_hold", "cancelled": "cancelled", "canceled": "cancelled", "price approval": "price_approval",
            "return requested": "return_requested", "return received": "return_received", "refunded": "refunded",
            "replaced": "replaced"}
# Notes log verbs -> our history actions
ACTIONS = {"created": "create", "submitted": "submit", "credit approved": "approve", "approved": "approve",
           "put on credit hold": "hold_credit", "allocated": "allocate", "picking started": "pick",
           "shipped": "ship", "partially shipped": "ship_part", "delivered": "deliver", "invoiced": "invoice",
           "closed": "close", "cancelled": "cancel", "put on hold": "hold", "released": "release",
           "amended": "amend", "edited": "edit"}
ORDER_ITEMS = {"OrderNumber", "CustomerID", "CustomerName", "Status", "Priority", "OrderDate", "PromisedDate",
               "Currency", "ProductCode", "ProductDescription", "Quantity", "UnitPrice", "Notes", "CustomerPO", "LogDate",
               "LogBy", "LogAction", "LogComment", "Form"}
CUSTOMER_ITEMS = {"CustomerID", "CompanyName", "Tier", "CreditLimit", "OpenBalance", "DaysLate", "Currency",
                  "ContactNames", "ContactEmails", "Partner", "CreditHold", "Form"}
PRODUCT_ITEMS = {"ProductCode", "ProductDescription", "Description", "Unit", "ListPrice", "Currency", "TaxClass",
                 "Withdrawn", "Form"}
COMMENT_ITEMS = {"Body", "From", "Form", "$REF"}
SERVER_GROUPS = {"localdomainservers", "otherdomainservers", "localdomainadmins"}
_DXL_DT = re.compile(r"(\d{8})(?:T(\d{6})(?:,\d+)?)?(?:([+-]\d{2})(\d{2})?|Z)?$")


@dataclass
class Item:
    name: str
    values: list
    kind: str                  # text | number | datetime
    flags: set = field(default_factory=set)   # names, readers, authors


@dataclass
class Note:
    form: str
    unid: str
    line: int
    created: str | None
    parent: str | None
    updated_by: list
    items: dict


def parse_datetime(text: str) -> str | None:
    """'20190402T101500,00+02' -> '2019-04-02T08:15:00Z'; '20190415' -> '2019-04-15'."""
    m = _DXL_DT.match(text.strip())
    if not m:
        return None
    day, time, tz_h, tz_m = m.groups()
    if not time:
        return f"{day[:4]}-{day[4:6]}-{day[6:]}"
    offset = dt.timedelta(hours=int(tz_h), minutes=int(tz_m or 0) * (1 if int(tz_h) >= 0 else -1)) if tz_h else dt.timedelta()
    local = dt.datetime.strptime(day + time, "%Y%m%d%H%M%S")
    return (local - offset).strftime("%Y-%m-%dT%H:%M:%SZ")


def _values(node) -> tuple[list, str]:
    for child in node.children:
        tag = child.tag
        if tag in ("text", "number", "datetime"):
            return [child.text], tag
        if tag in ("textlist", "numberlist", "datetimelist"):
            return [c.text for c in child.children], tag[:-4]
        return [child.text], "other:" + tag   # richtext, object ...: kept as text, reported
    return [], "text"


def read_notes(data: bytes) -> tuple[dict, list[Note], list]:
    """(database info, notes, ACL summary). DXL exports carry <!DOCTYPE database>: tolerated, but
    entities and external references are refused like in any XML we read."""
    root = xmlformat.parse(data, allow_doctype=True)
    if root.tag != "database":
        raise ImportRefused(f"not a DXL database export: the root element is <{root.tag}>, not <database>")
    info = {"title": root.attrs.get("title", ""), "replicaid": root.attrs.get("replicaid", ""),
            "path": root.attrs.get("path", "")}
    notes, acl = [], []
    for node in root.children:
        if node.tag == "acl":
            acl = [("role", r.text.strip()) for r in node.findall("role")] + \
                  [("entry", e.attrs.get("name", "")) for e in node.findall("aclentry")]
            continue
        if node.tag != "document":
            continue
        noteinfo = node.find("noteinfo")
        unid = noteinfo.attrs.get("unid", "") if noteinfo is not None else ""
        created_node = noteinfo.find("created") if noteinfo is not None else None
        created = None
        if created_node is not None and created_node.find("datetime") is not None:
            created = parse_datetime(created_node.find("datetime").text)
        upd = node.find("updatedby")
        items: dict[str, Item] = {}
        for it in node.findall("item"):
            values, kind = _values(it)
            flags = {f for f in ("names", "readers", "authors") if it.attrs.get(f) == "true"}
            items[it.attrs.get("name", "")] = Item(it.attrs.get("name", ""), [v.strip() for v in values], kind, flags)
        parent = node.attrs.get("parent") or (items["$REF"].values[0] if "$REF" in items and items["$REF"].values else None)
        notes.append(Note(node.attrs.get("form") or (items["Form"].values[0] if "Form" in items else ""), unid,
                          node.line, created, parent, [n.text.strip() for n in upd.findall("name")] if upd else [], items))
    return info, notes, acl


class Names:
    """Notes names -> our principals. 'CN=Sally Sales/OU=Sales/O=OrderDesk' -> 'sally' by the
    directory's display names (or an explicit map); roles like [Sales] stay as they are."""

    def __init__(self, directory=None, explicit: dict | None = None):
        self.map = {k.lower(): v for k, v in (explicit or {}).items()}
        if directory is not None:
            for p in directory.people():
                self.map.setdefault(p.display_name.lower(), p.name)
                self.map.setdefault(p.name.lower(), p.name)
        self.roles = set(rules.acl()["roles"])

    @staticmethod
    def common(name: str) -> str:
        first = name.split("/")[0]
        return first[3:] if first.upper().startswith("CN=") else first

    @staticmethod
    def abbreviate(name: str) -> str:
        return "/".join(part.split("=", 1)[-1] for part in name.split("/"))

    def person(self, name: str) -> str | None:
        return self.map.get(name.lower()) or self.map.get(self.common(name).lower())

    def principals(self, values: list, where: str, unmapped: list) -> list[str]:
        """Map a Readers/Authors item. Never widens access: what cannot be mapped is kept
        verbatim (it matches nobody, so the order stays restricted) and reported; only Notes
        server groups are dropped, and only when something else remains."""
        out = []
        for v in values:
            if not v:
                continue
            if v.startswith("[") and v.endswith("]"):
                out.append(v)
                if v not in self.roles:
                    unmapped.append({"where": where, "what": f"role {v} is not one of ours: kept, so access stays as narrow"})
                continue
            if v.lower() in SERVER_GROUPS:
                unmapped.append({"where": where, "what": f"server group {v} dropped (no servers here)"})
                continue
            uid = self.person(v)
            if uid:
                out.append(uid)
            else:
                kept = self.abbreviate(v)[:80]
                out.append(kept)
                unmapped.append({"where": where, "what": f"name {v} is not in our directory: kept as {kept!r}"})
        if not out and values:
            out = [self.abbreviate(v)[:80] for v in values if v]
        return list(dict.fromkeys(out))


def _num(item: Item | None):
    if item is None or not item.values or item.values[0] in ("", None):
        return None
    return item.values[0]


def _text(items: dict, name: str) -> str | None:
    it = items.get(name)
    return it.values[0] if it and it.values and it.values[0] else None


def import_dxl(ctx: ImportContext, data: bytes, filename: str = "", names: Names | None = None) -> Report:
    info, notes, acl = read_notes(data)
    names = names or Names(getattr(ctx, "directory", None))
    report = Report(format="dxl", kind="customers,products,orders,comments", filename=filename)
    source = info["title"] or info["path"] or "Notes database"
    by_form: dict[str, list[Note]] = defaultdict(list)
    for n in notes:
        by_form["Comment" if n.parent else n.form].append(n)
    unmapped_items: Counter = Counter()

    # customers and products first: orders point at them
    _upsert_form(ctx, by_form.pop("Customer", []), "Customer", "CustomerID", CUSTOMER_ITEMS, CustomerHandler,
                 _customer_input, report, unmapped_items)
    if _upsert_form(ctx, by_form.pop("Product", []), "Product", "ProductCode", PRODUCT_ITEMS, ProductHandler,
                    _product_input, report, unmapped_items):
        memories.forget_catalog(ctx.db.name)   # the orders below are priced with them

    # orders, claimed by UNID
    claims = []
    customers_cache: dict = {}
    for n in by_form.pop("Order", []):
        rec = Record("orders", n.line, {}, n.unid)
        unmapped_items.update(f"Order item {k}" for k in n.items if k not in ORDER_ITEMS and not k.startswith("$")
                              and not (n.items[k].flags & {"readers", "authors"}))
        try:
            build = _order_builder(ctx, n, names, source, report.unmapped, customers_cache)
        except InvalidInput as exc:
            report.problem(rec, exc.reason)
            continue
        claims.append(OrderClaim(rec, n.unid, fingerprint("DXL", "order", {"unid": n.unid}), build))
    create_claimed(ctx, claims, report, kind="dxl")

    # responses: comments under the orders just claimed
    comments = by_form.pop("Comment", [])
    if comments:
        _comments(ctx, comments, names, report)
    for form, rest in by_form.items():
        report.unmapped.append({"where": f"form {form or '(none)'}", "what": f"{len(rest)} document(s) not imported"})
    for what, count in sorted(unmapped_items.items()):
        report.unmapped.append({"where": what, "what": f"not mapped ({count} document{'s' if count > 1 else ''})"})
    if acl:
        roles = [v for k, v in acl if k == "role"]
        entries = [v for k, v in acl if k == "entry"]
        report.unmapped.append({"where": "ACL", "what": f"{len(entries)} entries and roles {', '.join(roles)} not imported: "
                                                        "levels and roles come from LDAP groups and the ACL page"})
    keep_report(ctx, report)
    return report


def _upsert_form(ctx: ImportContext, notes: list[Note], form: str, id_item: str, known: set, handler, read,
                 report: Report, unmapped_items: Counter) -> int:
    """The documents of one Notes form that become documents upserted by id (customers,
    products): each read by `read`, checked by the handler of that kind, items we do not map
    counted for the report. Returns how many were sent."""
    pairs = []
    for n in notes:
        rec = Record(handler.kind, n.line, {}, _text(n.items, id_item))
        unmapped_items.update(f"{form} item {k}" for k in n.items if k not in known and not k.startswith("$"))
        try:
            pairs.append((rec, handler.to_doc(read(n))))
        except InvalidInput as exc:
            report.problem(rec, exc.reason)
    if pairs:
        upsert(ctx, pairs, report, handler.defaults())
    return len(pairs)


def _product_input(n: Note) -> dict:
    """A Notes product document: ProductCode, ProductDescription, Unit, ListPrice in Currency
    (EUR when none), TaxClass, Withdrawn ("Yes")."""
    it = n.items
    data = {"sku": _text(it, "ProductCode") or "",
            "description": _text(it, "ProductDescription") or _text(it, "Description")}
    if _text(it, "Unit"):
        data["unit"] = _text(it, "Unit")
    if _text(it, "TaxClass"):
        data["tax_class"] = _text(it, "TaxClass").lower()
    price = _num(it.get("ListPrice"))
    if price is not None:
        data["list_prices"] = {(_text(it, "Currency") or "EUR").upper(): f"{float(price):.2f}"}
    data["status"] = "withdrawn" if (_text(it, "Withdrawn") or "").lower() in ("yes", "1", "true") else "active"
    return data


def _customer_input(n: Note) -> dict:
    it = n.items
    data = {"id": _text(it, "CustomerID"), "name": _text(it, "CompanyName")}
    for src, dst in (("Tier", "tier"), ("Currency", "currency"), ("Partner", "partner"), ("CreditHold", "credit_hold")):
        v = _text(it, src)
        if v:
            data[dst] = v.lower() if dst == "tier" else v
    for src, dst in (("CreditLimit", "credit_limit"), ("OpenBalance", "open_balance")):
        v = _num(it.get(src))
        if v is not None:
            data[dst] = f"{float(v):.2f}"
    v = _num(it.get("DaysLate"))
    if v is not None:
        data["days_late"] = int(float(v))
    names_ = it.get("ContactNames").values if it.get("ContactNames") else []
    mails = it.get("ContactEmails").values if it.get("ContactEmails") else []
    if names_ or mails:
        data["contacts"] = [{k: v for k, v in (("name", nm), ("email", em)) if v}
                            for nm, em in zip(names_ + [""] * (len(mails) - len(names_)), mails + [""] * (len(names_) - len(mails)))]
    return data


def _order_builder(ctx: ImportContext, n: Note, names: Names, source: str, unmapped: list, cache: dict):
    it = n.items
    where = f"order {_text(it, 'OrderNumber') or n.unid}"
    status_text = (_text(it, "Status") or "").strip()
    status = STATUSES.get(status_text.lower())
    if status is None:
        raise InvalidInput(f"status {status_text!r} has no counterpart here; known: {', '.join(sorted(STATUSES))}")
    cid = _text(it, "CustomerID")
    if not cid:
        raise InvalidInput("the order names no CustomerID")
    if cid not in cache:
        cache[cid] = ctx.db.get_or_none(f"customer:{cid}")
    customer = cache[cid]
    if not customer or customer.get("type") != "customer":
        raise InvalidInput(f"unknown customer {cid!r} (import it first, or in the same file)")
    skus = it["ProductCode"].values if "ProductCode" in it else []
    qtys = it["Quantity"].values if "Quantity" in it else []
    prices = it["UnitPrice"].values if "UnitPrice" in it else []
    descs = it["ProductDescription"].values if "ProductDescription" in it else []
    if not (len(skus) == len(qtys) == len(prices)):
        raise InvalidInput(f"ProductCode, Quantity and UnitPrice hold {len(skus)}, {len(qtys)} and {len(prices)} values; "
                           "they must line up")
    raw = []
    for i, (sku, q, p) in enumerate(zip(skus, qtys, prices)):
        try:
            qty = int(float(q))
        except ValueError:
            raise InvalidInput(f"Quantity {q!r} (line {i + 1}) is not a number") from None
        line = {"sku": sku.upper(), "qty": qty, "unit_price": f"{float(p):.2f}"}
        if i < len(descs) and descs[i]:
            line["description"] = descs[i]
        raw.append(line)
    lines = orders.legacy_lines(raw)
    prio_raw = _num(it.get("Priority"))
    priority = int(float(prio_raw)) if prio_raw is not None else 3
    if not 1 <= priority <= 5:
        unmapped.append({"where": where, "what": f"priority {priority} outside 1..5: set to 3"})
        priority = 3
    readers, authors = [], []
    for item in it.values():
        if "readers" in item.flags:
            readers += names.principals(item.values, f"{where} Readers item {item.name}", unmapped)
        elif "authors" in item.flags:
            authors += names.principals(item.values, f"{where} Authors item {item.name}", unmapped)
    history = _legacy_history(it, names, unmapped, where, n.created)
    created_at = n.created or (history[0]["at"] if history else None) or ctx.clock()
    creator = history[0]["by"] if history else (names.person(n.updated_by[0]) if n.updated_by else None)
    created_by = creator or (Names.abbreviate(n.updated_by[0]) if n.updated_by else "notes")
    promised = parse_datetime(_text(it, "PromisedDate") or "") if _text(it, "PromisedDate") else None
    legacy_number = _text(it, "OrderNumber")

    def build(number: str) -> dict:
        now = ctx.clock()
        doc = {"_id": orders.order_id(number), "type": "order", "number": number,
               "customer": {"id": customer["_id"], "name": customer["name"]}, "lines": lines,
               "totals": orders.totals(lines), "currency": (_text(it, "Currency") or customer.get("currency") or "EUR").upper(),
               "status": status, "priority": priority, "version": 1,
               "created_by": created_by, "created_at": created_at, "updated_by": ctx.access.name, "updated_at": now,
               "authors": list(dict.fromkeys(authors)) or [created_by],
               "external_ref": (legacy_number or f"notes:{n.unid}")[:100],
               "imported": {"source": "dxl", "ref": n.unid, "database": source, "legacy_number": legacy_number,
                            "at": now, "by": ctx.access.name},
               "history": history + [{"at": now, "by": ctx.access.name, "action": "import", "from": None,
                                      "to": status, "reason": f"imported from Notes: {source}, document {n.unid}"}]}
        if readers:
            doc["readers"] = list(dict.fromkeys(readers))
        if promised:
            doc["promised_date"] = promised[:10]
        if _text(it, "Notes"):
            doc["notes"] = _text(it, "Notes")[:4000]
        if _text(it, "CustomerPO"):
            doc["customer_po"] = _text(it, "CustomerPO")[:35]
        if status == "cancelled":
            doc["cancel_reason"] = next((h.get("reason") for h in reversed(history) if h.get("reason")), "cancelled in Notes")
        problem = orders.order_problem(doc)
        if problem:
            raise InvalidInput(problem)
        return doc

    return build


def _legacy_history(it: dict, names: Names, unmapped: list, where: str, created: str | None) -> list[dict]:
    """Parallel items LogDate (datetimelist), LogBy (names), LogAction (text), LogComment (text)."""
    dates = it["LogDate"].values if "LogDate" in it else []
    who = it["LogBy"].values if "LogBy" in it else []
    what = it["LogAction"].values if "LogAction" in it else []
    why = it["LogComment"].values if "LogComment" in it else []
    out, state = [], None
    for i, (d, w, a) in enumerate(zip(dates, who, what)):
        at = parse_datetime(d)
        if not at or len(at) == 10:
            unmapped.append({"where": where, "what": f"log entry {i + 1} has no time ({d!r}): skipped"})
            continue
        verb = a.strip()
        action = ACTIONS.get(verb.lower()) or ACTIONS.get(verb.lower().split(" (")[0])
        person = names.person(w) or Names.abbreviate(w) or "notes"
        entry = {"at": at, "by": person, "action": action or f"notes: {verb}", "legacy": True}
        target = _target(action)
        entry["from"], entry["to"] = state, target or state
        if target:
            state = target
        if i < len(why) and why[i]:
            entry["reason"] = why[i]
        if not action:
            unmapped.append({"where": where, "what": f"log action {verb!r} kept as text"})
        out.append(entry)
    if out and out[0]["action"] == "create" and created:
        out[0]["at"] = min(out[0]["at"], created)
    return out


def _target(action: str | None) -> str | None:
    if action == "create":
        return "draft"
    t = next((t for t in rules.workflow()["transitions"] if t["name"] == action), None)
    return None if t is None or t["to"].startswith("$") else t["to"]


def _comments(ctx: ImportContext, notes: list[Note], names: Names, report: Report) -> None:
    from oms.store.couch import Conflict

    from .refclaims import ClaimBook
    claims = ClaimBook(ctx.db, "dxl", ctx.access.name, ctx.clock).find({n.parent for n in notes if n.parent})
    for n in notes:
        rec = Record("comments", n.line, {}, n.unid)
        claim = claims.get(n.parent)
        if not claim:
            report.problem(rec, f"its parent document {n.parent} is not an imported order")
            continue
        text = "\n".join(n.items["Body"].values) if "Body" in n.items else ""
        if not text.strip():
            report.problem(rec, "the response has no Body")
            continue
        author = _text(n.items, "From") or (n.updated_by[0] if n.updated_by else "")
        doc = {"_id": f"comment:notes-{n.unid}", "type": "comment", "parent": orders.order_id(claim.number),
               "text": text[:4000], "by": ctx.access.name, "at": n.created or ctx.clock(),
               "legacy_by": names.person(author) or Names.abbreviate(author), "imported": {"source": "dxl", "ref": n.unid}}
        if ctx.db.get_or_none(doc["_id"]) is not None:
            report.count("comments", "unchanged")
            continue
        try:
            ctx.db.save(doc)
            report.count("comments", "created")
        except Conflict:
            report.count("comments", "unchanged")
        except Exception as exc:  # refused by validate_doc_update: reported with its reason
            report.problem(rec, getattr(exc, "reason", str(exc)))
