"""The printed documents (oms/billing/printing.py) on the web: the page with its way back and its
PDF link on screen, or the PDF itself."""
from __future__ import annotations

from flask import Blueprint, Response, request, send_file, url_for

from oms.billing import printing

bp = Blueprint("printing", __name__)


@bp.get("/print.css")
def stylesheet():
    return send_file(printing.PRINT_CSS, mimetype="text/css", max_age=3600)


def pdf_response(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'})


def paper(doc: printing.Printable, links=()):
    """The page (with `links` [(href, label)] and a PDF link on screen), or its PDF when ?format=pdf."""
    if request.args.get("format") == "pdf":
        return pdf_response(doc.pdf(), doc.filename)
    return doc.html([*links, (request.path + "?format=pdf", "Download PDF")], url_for("printing.stylesheet"))


def invoice_page(doc: dict, as_pdf: bool, links=()):
    """An invoice or a credit note: the page, or its PDF."""
    if as_pdf:
        return pdf_response(printing.invoice_pdf(doc), doc["number"])
    pdf_link = (request.path + "?format=pdf", "Download PDF")
    return printing.invoice_html(doc, [*links, pdf_link], url_for("printing.stylesheet"))
