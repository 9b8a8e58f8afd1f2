"""The invoice list (oms/billing BillingService.listing rows) and the payments received
(BillingService.payments) as CSV, JSON or XML: what an accounting system takes in. One row per
invoice (its order, customer, dates, totals, what it still asks for, its state) and one row per
payment and invoice it pays."""
from __future__ import annotations

import csv
import io
import json
from xml.sax.saxutils import escape, quoteattr

from oms.core.errors import InvalidInput

from . import xmlformat

COLUMNS = [("number", "Invoice"), ("order", "Order"), ("customer_id", "Customer id"), ("customer", "Customer"),
           ("due_date", "Due"), ("currency", "Currency"), ("gross", "Total"), ("unpaid", "Still due"),
           ("state", "State")]
# element names in our XML format (docs/xml/orderdesk.xsd)
XML_NAMES = {"order": "order", "customer_id": "customer-id", "customer": "customer-name", "due_date": "due-date",
             "currency": "currency", "gross": "total", "unpaid": "still-due", "state": "state"}
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json", "xml": "application/xml; charset=utf-8"}


def _flat(r: dict) -> dict:
    return {"number": r["number"], "order": r["order"], "customer_id": r["customer"]["id"].split(":", 1)[1],
            "customer": r["customer"]["name"], "due_date": r["due_date"], "currency": r["currency"],
            "gross": f"{r['gross_cents'] / 100:.2f}", "unpaid": f"{r['unpaid_cents'] / 100:.2f}",
            "state": r["state_title"]}


def render(rows: list[dict], fmt: str) -> tuple[str, str]:
    """(text, mimetype) of the invoice rows in `fmt`."""
    return _render([_flat(r) for r in rows], fmt, COLUMNS, XML_NAMES, ("invoices", "invoice", "number"))


PAYMENT_COLUMNS = [("payment", "Payment"), ("received_on", "Received"), ("customer_id", "Customer id"),
                   ("currency", "Currency"), ("amount", "Amount"), ("method", "Method"), ("reference", "Reference"),
                   ("invoice", "Invoice"), ("share", "Paid on the invoice")]
PAYMENT_XML = {"received_on": "received-on", "customer_id": "customer-id", "currency": "currency", "amount": "amount",
               "method": "method", "reference": "reference", "invoice": "invoice", "share": "share"}


def _payment_rows(payments: list[dict]) -> list[dict]:
    return [{"payment": p["payment"].split(":", 1)[1], "received_on": p["received_on"],
             "customer_id": p["customer"].split(":", 1)[1], "currency": p["currency"],
             "amount": f"{p['amount_cents'] / 100:.2f}", "method": p["method"], "reference": p.get("reference") or "",
             "invoice": a["invoice"], "share": f"{a['amount_cents'] / 100:.2f}"}
            for p in payments for a in p["allocations"]]


def render_payments(payments: list[dict], fmt: str) -> tuple[str, str]:
    """(text, mimetype) of the payments in `fmt`: one row per payment and invoice it pays."""
    return _render(_payment_rows(payments), fmt, PAYMENT_COLUMNS, PAYMENT_XML, ("payments", "payment", "id"))


def _render(flat: list[dict], fmt: str, columns: list, xml_names: dict, xml: tuple[str, str, str]) -> tuple[str, str]:
    """Rows of text values as CSV (titles in the header), JSON ({list: rows}) or our XML (one
    element per row, its first column as an attribute, the others as child elements)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    listing, element, attr = xml
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow([title for _, title in columns])
        for r in flat:
            w.writerow([r[k] for k, _ in columns])
        return out.getvalue(), FORMATS[fmt]
    if fmt == "json":
        return json.dumps({listing: flat}, ensure_ascii=False), FORMATS[fmt]
    first = columns[0][0]
    body = "".join(f"    <{element} {attr}=" + quoteattr(r[first]) + ">"
                   + "".join(f"<{xml_names[k]}>{escape(r[k])}</{xml_names[k]}>" for k, _ in columns[1:])
                   + f"</{element}>\n" for r in flat)
    return xmlformat.head() + f"  <{listing}>\n" + body + f"  </{listing}>\n" + xmlformat.tail(), FORMATS[fmt]
