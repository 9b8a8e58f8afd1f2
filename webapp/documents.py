"""Printed documents of the order's life besides the invoice (webapp/billing.py): the order
confirmation, a shipment's packing slip and a warehouse's pick list, each a page designed for
paper that prints from the browser, or ?format=pdf to download it."""
from __future__ import annotations

from flask import Blueprint, url_for

from oms.billing.invoices import terms_days
from oms.core.clock import utcnow
from oms.core.errors import NotFound
from oms.wms.stock import clean_warehouse
from views.picking import pick_list

from . import services
from .auth import login_required
from .printing import paper

bp = Blueprint("documents", __name__)


@bp.get("/orders/<number>/confirmation")
@login_required
def confirmation(number):
    svc = services.order_service()
    order = svc.get(number)
    customer = svc.db.get_or_none(order["customer"]["id"]) or {}
    return paper("print_order.html", f"{order['number']}-confirmation", _back(order), title="Order confirmation",
                 order=order, lines=order["lines"], shipment=None, terms=terms_days(customer))


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
    return paper("print_order.html", f"{order['number']}-packing-slip", _back(order), title="Packing slip",
                 order=order, lines=lines, shipment=doc, terms=None)


@bp.get("/warehouses/<warehouse>/pick-list")
@login_required
def pick(warehouse):
    access = services.current_access()
    warehouse = clean_warehouse(warehouse)
    rows = pick_list(services.person_db(access), access, warehouse)
    return paper("print_pick_list.html", f"pick-list-{warehouse}", [(url_for("stock.index"), "← Stock")],
                 warehouse=warehouse, rows=rows, now=utcnow())


def _back(order: dict) -> list[tuple[str, str]]:
    return [(url_for("orders.show", number=order["number"]), f"← Order {order['number']}")]
