"""Printed documents: the same HTML page prints from the browser and is drawn as PDF by
WeasyPrint (no browser needed on the server). The browser links the page's stylesheet; WeasyPrint
is handed the same file from disk, so drawing a PDF never fetches anything over HTTP (not even
from this app)."""
from __future__ import annotations

from pathlib import Path

from flask import Response, render_template

from oms.core import rules

PRINT_CSS = Path(__file__).parent / "static" / "print.css"


def seller() -> dict:
    """Who the invoices come from (rules/billing.json `seller`)."""
    return rules.rules()["billing"]["seller"]


def invoice_html(invoice: dict, for_pdf: bool = False, may_record: bool = False) -> str:
    """An invoice, or a credit note (its document says which), as a page for paper."""
    return render_template("invoice.html", inv=invoice, credit=invoice.get("type") == "credit_note", seller=seller(),
                           for_pdf=for_pdf, may_record=may_record)


def invoice_pdf(invoice: dict) -> bytes:
    return pdf(invoice_html(invoice, for_pdf=True))


def pdf_response(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'})


def invoice_page(doc: dict, as_pdf: bool, may_record: bool = False):
    """An invoice or a credit note: the page, or its PDF."""
    return pdf_response(invoice_pdf(doc), doc["number"]) if as_pdf else invoice_html(doc, may_record=may_record)


def pdf(html: str) -> bytes:
    import weasyprint   # drawn on demand: loading it costs a moment the rest of the app never pays
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[weasyprint.CSS(filename=str(PRINT_CSS))])
