"""Export orders as Domino XML (DXL), the way oms/interchange/dxl.py reads a Notes order
database: a `<document form='Order'>` per order with the items that importer maps (the order's
lines as parallel lists, its history as the Log* lists, Readers and Authors items), and the
`<document form='Customer'>` of each customer they name. So a file exported here imports into
another order desk (or back into Notes through a DXL import), and importing it twice adds nothing:
each document's UNID comes from the order's id.

Invoices go along as `<document form='Invoice'>` with their lines, for a Notes archive: the
importer here leaves that form out (invoices are issued, never imported) and says so."""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Iterable, Iterator
from xml.sax.saxutils import escape, quoteattr

from oms.core import rules

from .dxl import ACTIONS, STATUSES

# our states and actions -> the Notes words the importer reads back (the first that maps)
STATUS_WORDS = {ours: word for word, ours in reversed(list(STATUSES.items()))}
ACTION_WORDS = {ours: word for word, ours in reversed(list(ACTIONS.items()))}


def unid(doc_id: str) -> str:
    return hashlib.md5(doc_id.encode()).hexdigest().upper()


def dxl_datetime(iso: str | None) -> str:
    """'2026-12-07T10:15:00Z' -> '20261207T101500,00+00'; '2026-12-31' -> '20261231'."""
    if not iso:
        return ""
    if len(iso) == 10:
        return iso.replace("-", "")
    t = dt.datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")
    return t.strftime("%Y%m%dT%H%M%S") + ",00+00"


def _item(name: str, kind: str, values, flags: str = "") -> str:
    values = [v for v in values]
    if len(values) == 1:
        body = f"<{kind}>{escape(str(values[0]))}</{kind}>"
    else:
        body = f"<{kind}list>" + "".join(f"<{kind}>{escape(str(v))}</{kind}>" for v in values) + f"</{kind}list>"
    return f"<item name={quoteattr(name)}{flags}>{body}</item>\n"


def _noteinfo(doc_id: str, created: str | None) -> str:
    return (f"<noteinfo unid='{unid(doc_id)}'><created><datetime>{dxl_datetime(created)}</datetime></created></noteinfo>\n")


def customer_document(customer: dict) -> str:
    cid = customer["_id"].split(":", 1)[1]
    out = [f"<document form='Customer'>\n", _noteinfo(customer["_id"], customer.get("created_at")),
           _item("CustomerID", "text", [cid]), _item("CompanyName", "text", [customer.get("name") or cid]),
           _item("Currency", "text", [(customer.get("currency") or "EUR").upper()])]
    if customer.get("tier"):
        out.append(_item("Tier", "text", [customer["tier"].title()]))
    if isinstance(customer.get("credit_limit_cents"), int):
        out.append(_item("CreditLimit", "number", [f"{customer['credit_limit_cents'] / 100:.2f}"]))
    out.append("</document>\n")
    return "".join(out)


def order_document(order: dict) -> str:
    lines = order["lines"]
    history = [h for h in order.get("history") or () if h.get("action") != "import"]
    out = [f"<document form='Order'>\n", _noteinfo(order["_id"], order.get("created_at")),
           _item("OrderNumber", "text", [order["number"]]),
           _item("CustomerID", "text", [order["customer"]["id"].split(":", 1)[1]]),
           _item("CustomerName", "text", [order["customer"]["name"]]),
           _item("Status", "text", [STATUS_WORDS.get(order["status"], order["status"]).title()]),
           _item("Priority", "number", [order.get("priority", 3)]),
           _item("OrderDate", "datetime", [dxl_datetime(order.get("created_at"))]),
           _item("Currency", "text", [order.get("currency") or "EUR"]),
           _item("ProductCode", "text", [l["sku"] for l in lines]),
           _item("ProductDescription", "text", [l.get("description") or l["sku"] for l in lines]),
           _item("Quantity", "number", [l["qty"] for l in lines]),
           _item("UnitPrice", "number", [f"{l['unit_price_cents'] / 100:.2f}" for l in lines])]
    if order.get("promised_date"):
        out.append(_item("PromisedDate", "datetime", [dxl_datetime(order["promised_date"])]))
    if order.get("notes"):
        out.append(_item("Notes", "text", [order["notes"]]))
    if order.get("customer_po"):
        out.append(_item("CustomerPO", "text", [order["customer_po"]]))
    if order.get("authors"):
        out.append(_item("DocAuthors", "text", order["authors"], " authors='true' names='true'"))
    if order.get("readers"):
        out.append(_item("DocReaders", "text", order["readers"], " readers='true' names='true'"))
    if history:
        out += [_item("LogDate", "datetime", [dxl_datetime(h["at"]) for h in history]),
                _item("LogBy", "text", [h.get("by") or "" for h in history], " names='true'"),
                _item("LogAction", "text", [_log_word(h["action"]) for h in history]),
                _item("LogComment", "text", [h.get("reason") or "" for h in history])]
    out.append("</document>\n")
    return "".join(out)


def _log_word(action: str) -> str:
    word = ACTION_WORDS.get(action)
    if word:
        return word[:1].upper() + word[1:]
    title = next((t["title"] for t in rules.workflow()["transitions"] if t["name"] == action), action)
    return title


def invoice_document(invoice: dict) -> str:
    lines = invoice["lines"]
    t = invoice["totals"]
    out = [f"<document form='Invoice'>\n", _noteinfo(invoice["_id"], invoice.get("issued_at")),
           _item("InvoiceNumber", "text", [invoice["number"]]), _item("OrderNumber", "text", [invoice["order"]]),
           _item("CustomerID", "text", [invoice["customer"]["id"].split(":", 1)[1]]),
           _item("InvoiceDate", "datetime", [dxl_datetime(invoice["issued_at"])]),
           _item("DueDate", "datetime", [dxl_datetime(invoice["due_date"])]),
           _item("Currency", "text", [invoice["currency"]]),
           _item("ProductCode", "text", [l["sku"] for l in lines]),
           _item("Quantity", "number", [l["qty"] for l in lines]),
           _item("UnitPrice", "number", [f"{l['unit_price_cents'] / 100:.2f}" for l in lines]),
           _item("TaxRate", "number", [f"{l['tax_rate_bp'] / 100:g}" for l in lines]),
           _item("NetTotal", "number", [f"{t['net_cents'] / 100:.2f}"]),
           _item("Shipping", "number", [f"{t['shipping_cents'] / 100:.2f}"]),
           _item("TaxTotal", "number", [f"{t['tax_cents'] / 100:.2f}"]),
           _item("GrossTotal", "number", [f"{t['gross_cents'] / 100:.2f}"]),
           "</document>\n"]
    return "".join(out)


def export(orders: Iterable[dict], customers_of, invoices_of=None, title: str = "Order Desk") -> Iterator[str]:
    """The DXL file, a chunk at a time: each order's customer first (once), then the order and,
    with `invoices_of(order) -> [invoice docs]`, its invoices. `customers_of(ids) -> {id: doc}`."""
    yield "<?xml version='1.0' encoding='utf-8'?>\n<!DOCTYPE database>\n"
    yield f"<database xmlns='http://www.lotus.com/dxl' version='9.0' title={quoteattr(title)}>\n"
    seen: set[str] = set()
    for order in orders:
        cid = order["customer"]["id"]
        if cid not in seen:
            seen.add(cid)
            customer = customers_of([cid]).get(cid)
            if customer:
                yield customer_document(customer)
        yield order_document(order)
        for inv in (invoices_of(order) if invoices_of else ()):
            yield invoice_document(inv)
    yield "</database>\n"
