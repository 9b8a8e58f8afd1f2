"""Printed documents of the order's life besides the invoice (webapp/billing.py): the order
confirmation, a shipment's packing slip and a warehouse's pick list, each a page designed for
paper that prints from the browser, or ?format=pdf to download it (the API serves the PDFs too)."""
from __future__ import annotations

from flask import Blueprint, url_for

from oms.billing import printing
from oms.core.clock import utcnow
from oms.core.errors import NotFound
from oms.wms.stock import clean_warehouse
from views.picking import pick_list

from . import services
from .auth import login_required
from .printing import paper

bp = Blueprint("documents", __name__)


def confirmation_of(number: str) -> tuple[dict, printing.Printable]:
    svc = services.order_service()
    order = svc.get(number)
    return order, printing.confirmation(order, svc.db.get_or_none(order["customer"]["id"]))


def packing_slip_of(number: str, shipment: str) -> tuple[dict, printing.Printable]:
    svc = services.order_service()
    order = svc.get(number)
    doc = next((s for s in svc.shipments().of_order(order) if s["_id"] == f"shipment:{shipment}"), None)
    if doc is None:
        raise NotFound(f"{order['number']} has no shipment {shipment}")
    return order, printing.packing_slip(order, doc)


def pick_list_of(warehouse: str) -> printing.Printable:
    access = services.current_access()
    warehouse = clean_warehouse(warehouse)
    return printing.pick_list(warehouse, pick_list(services.person_db(access), access, warehouse), utcnow())


@bp.get("/orders/<number>/confirmation")
@login_required
def confirmation(number):
    order, doc = confirmation_of(number)
    return paper(doc, _back(order))


@bp.get("/orders/<number>/shipments/<shipment>/packing-slip")
@login_required
def packing_slip(number, shipment):
    order, doc = packing_slip_of(number, shipment)
    return paper(doc, _back(order))


@bp.get("/warehouses/<warehouse>/pick-list")
@login_required
def pick(warehouse):
    return paper(pick_list_of(warehouse), [(url_for("stock.index"), "← Stock")])


def _back(order: dict) -> list[tuple[str, str]]:
    return [(url_for("orders.show", number=order["number"]), f"← Order {order['number']}")]
