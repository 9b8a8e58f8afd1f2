"""Printed documents of the order's life besides the invoice (webapp/billing.py): the order
confirmation, a shipment's packing slip and a warehouse's pick list, each a page designed for
paper that prints from the browser, or ?format=pdf to download it."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from oms.billing.invoices import terms_days
from oms.core.clock import utcnow
from oms.core.errors import NotFound
from oms.wms.stock import clean_warehouse
from views.picking import pick_list

from . import services
from .auth import login_required
from .printing import pdf, pdf_response, seller

bp = Blueprint("documents", __name__)


def _paper(template: str, filename: str, **ctx):
    """The page, or its PDF when ?format=pdf."""
    if request.args.get("format") == "pdf":
        return pdf_response(pdf(render_template(template, for_pdf=True, seller=seller(), **ctx)), filename)
    return render_template(template, for_pdf=False, seller=seller(), **ctx)


@bp.get("/orders/<number>/confirmation")
@login_required
def confirmation(number):
    svc = services.order_service()
    order = svc.get(number)
    customer = svc.db.get_or_none(order["customer"]["id"]) or {}
    return _paper("print_order.html", f"{order['number']}-confirmation", title="Order confirmation", order=order,
                  lines=order["lines"], shipment=None, terms=terms_days(customer))


@bp.get("/orders/<number>/shipments/<shipment>/packing-slip")
@login_required
def packing_slip(number, shipment):
    svc = services.order_service()
    order = svc.get(number)
    doc = next((s for s in svc.shipments().of_order(order) if s["_id"] == f"shipment:{shipment}"), None)
    if doc is None:
        raise NotFound(f"{order['number']} has no shipment {shipment}")
    by_line = {l["line"]: l for l in order["lines"]}
    lines = [{**sl, "description": by_line.get(sl["line"], {}).get("description")} for sl in doc["lines"]]
    return _paper("print_order.html", f"{order['number']}-packing-slip", title="Packing slip", order=order,
                  lines=lines, shipment=doc, terms=None)


@bp.get("/warehouses/<warehouse>/pick-list")
@login_required
def pick(warehouse):
    access = services.current_access()
    warehouse = clean_warehouse(warehouse)
    rows = pick_list(services.person_db(access), access, warehouse)
    return _paper("print_pick_list.html", f"pick-list-{warehouse}", warehouse=warehouse, rows=rows, now=utcnow())
