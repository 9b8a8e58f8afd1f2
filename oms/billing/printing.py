"""Printed documents: invoices and credit notes, the order confirmation, packing slips and pick
lists as HTML pages designed for paper (templates/, with print.css: A4, page numbers), and the
same pages drawn as PDF by WeasyPrint, with no browser on the server. The web app shows them (and
links print.css); the agents mail the PDFs. The stylesheet is handed to WeasyPrint from disk, so
drawing a PDF never fetches anything over HTTP."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from oms.core import rules
from oms.core.display import money, when

from .invoices import terms_days

TEMPLATES = Path(__file__).parent / "templates"
PRINT_CSS = TEMPLATES / "print.css"


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.ChainableUndefined)
    env.filters.update(money=money, when=when)
    return env


def seller() -> dict:
    """Who the documents come from (rules/billing.json `seller`)."""
    return rules.rules()["billing"]["seller"]


def render(template: str, links=(), css_url: str | None = None, **ctx) -> str:
    """A document page. `links` [(href, label)] and `css_url` are the screen's (left out on
    paper and in the PDF)."""
    return _env().get_template(template).render(seller=seller(), links=list(links), css_url=css_url,
                                                for_pdf=css_url is None, **ctx)


def invoice_html(doc: dict, links=(), css_url: str | None = None) -> str:
    """An invoice, or a credit note (its document says which)."""
    return render("invoice.html", links, css_url, inv=doc, credit=doc.get("type") == "credit_note")


def pdf(html: str) -> bytes:
    import weasyprint   # drawn on demand: loading it costs a moment the rest of the app never pays
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[weasyprint.CSS(filename=str(PRINT_CSS))])


def invoice_pdf(doc: dict) -> bytes:
    return pdf(invoice_html(doc))


@dataclass
class Printable:
    """A document to print: its template, the file name of its PDF and what the template shows."""
    template: str
    filename: str
    ctx: dict = field(default_factory=dict)

    def html(self, links=(), css_url: str | None = None) -> str:
        return render(self.template, links, css_url, **self.ctx)

    def pdf(self) -> bytes:
        return pdf(self.html())


def confirmation(order: dict, customer: dict | None) -> Printable:
    return Printable("print_order.html", f"{order['number']}-confirmation",
                     {"title": "Order confirmation", "order": order, "lines": order["lines"], "shipment": None,
                      "terms": terms_days(customer)})


def packing_slip(order: dict, shipment: dict) -> Printable:
    by_line = {l["line"]: l for l in order["lines"]}
    lines = [{**sl, "description": by_line.get(sl["line"], {}).get("description")} for sl in shipment["lines"]]
    return Printable("print_order.html", f"{order['number']}-packing-slip",
                     {"title": "Packing slip", "order": order, "lines": lines, "shipment": shipment, "terms": None})


def pick_list(warehouse: str, rows: list[dict], now: str) -> Printable:
    return Printable("print_pick_list.html", f"pick-list-{warehouse}", {"warehouse": warehouse, "rows": rows, "now": now})
