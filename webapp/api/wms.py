"""JSON API for the CRM and WMS links, on the /api/v1 blueprint of webapp.api.v1: customers (upsert
one, import a feed), stock (levels, counts, receipts, a feed), availability of lines, and
shipments of an order. Every write goes to CouchDB as the authenticated person; the automatic
hand-offs after it (backorders served on a receipt, stock consumed on a shipment) run as the
system identity."""
from __future__ import annotations

from flask import jsonify, request

from oms.core import rules
from oms.core.errors import InvalidInput
from oms.core.money import to_qty
from oms.crm.customers import customer_id, external_id
from oms.fulfilment import handoffs as fulfilment
from oms.interchange import feeds
from oms.store.couch import NotFound
from oms.store.idempotency import Outcome
from oms.wms.stock import available, clean_sku, clean_warehouse
from webapp import services
from webapp.auth import api_auth_required

from .support import created, idempotent, json_body, limit_arg, request_fingerprint, respond
from .v1 import bp


def _visible(served: list[dict]) -> list[dict]:
    """Backorders served, without orders whose Readers field leaves this person out."""
    access = services.current_access()
    return [{k: v for k, v in s.items() if k not in ("readers", "authors")} for s in served if access.may_read(s)]


# -- customers -------------------------------------------------------------------------------------
@bp.get("/customers")
@api_auth_required
def list_customers():
    """Profiles by id, paged by key: ?after=<id of the last one seen>."""
    after = request.args.get("after")
    docs, nxt = services.customers().page(customer_id(after) if after else None, limit=limit_arg(50, most=200))
    return jsonify({"customers": docs, "next": external_id(nxt) if nxt else None})


@bp.get("/customers/<ref>")
@api_auth_required
def get_customer(ref):
    svc = services.customers()
    doc = svc.get(ref)
    by_state = svc.open_orders(doc["_id"])
    return jsonify({**doc, "open_orders_cents": svc.exposure_cents(doc),
                    "orders_by_state_cents": by_state})


@bp.put("/customers/<ref>")
@api_auth_required
def put_customer(ref):
    outcome, doc = services.customers().upsert(ref, json_body())
    return created({"result": outcome, "customer": doc}, outcome == "created")


@bp.post("/customers/import")
@api_auth_required
def import_customers():
    rows = feeds.parse(request.get_data(), request.content_type or "", key="customers")
    return jsonify(services.customers().import_rows(rows).as_dict())


# -- stock -----------------------------------------------------------------------------------------
def _stock_body(sku: str, docs: list[dict]) -> dict:
    warehouses = [{"warehouse": d["warehouse"], "on_hand": d["on_hand"], "reserved": d["reserved"],
                   "available": available(d)} for d in docs]
    return {"sku": sku, "on_hand": sum(w["on_hand"] for w in warehouses),
            "reserved": sum(w["reserved"] for w in warehouses),
            "available": sum(max(0, w["available"]) for w in warehouses), "warehouses": warehouses}


@bp.get("/stock")
@api_auth_required
def list_stock():
    """Stock per SKU and warehouse, paged by key: ?after=<SKU>|<WAREHOUSE> of the last row seen."""
    after = request.args.get("after")
    key = after.split("|", 1) if after and "|" in after else None
    rows, nxt = services.stock().page(key, limit=limit_arg(50, most=200))
    return jsonify({"stock": rows, "next": "|".join(nxt) if nxt else None})


@bp.get("/stock/<sku>")
@api_auth_required
def get_stock(sku):
    sku = clean_sku(sku)
    docs = services.stock().levels(sku)
    if not docs:
        raise NotFound(f"no stock of {sku} in any warehouse")
    return jsonify(_stock_body(sku, docs))


@bp.put("/stock/<sku>/<warehouse>")
@api_auth_required
def put_stock_count(sku, warehouse):
    data = json_body()
    on_hand = data.get("on_hand")
    if isinstance(on_hand, bool) or not isinstance(on_hand, int):
        raise InvalidInput('send the count as {"on_hand": 120}')
    doc, served = fulfilment.count(services.stock(), services.agent(), sku, warehouse, on_hand, data.get("description"))
    return jsonify({"stock": _public(doc), "served": _visible(served)})


@bp.post("/stock/receipts")
@api_auth_required
def post_receipt():
    """With an Idempotency-Key, a retried receipt answers the first result and adds nothing."""
    data = json_body()
    qty = to_qty(data.get("qty"), "qty")
    sku, warehouse = clean_sku(data.get("sku")), clean_warehouse(data.get("warehouse") or "MAIN")
    stock = services.stock()

    def receive() -> Outcome:
        doc, served = fulfilment.receive(stock, services.agent(), sku, warehouse, qty, data.get("description"))
        return Outcome(201, {"stock": _public(doc), "served": _visible(served)})
    return respond(idempotent(stock.db, stock.access.name, stock.clock, request_fingerprint(data), receive))


@bp.post("/stock/import")
@api_auth_required
def import_stock():
    rows = feeds.parse(request.get_data(), request.content_type or "", key="stock")
    report = feeds.import_stock(rows, services.stock(), services.agent()).as_dict()
    return jsonify({**report, "served": _visible(report["served"])})


@bp.post("/availability")
@api_auth_required
def post_availability():
    """Would these lines be served now? {"lines": [{"sku": "WID-100", "qty": 3}]} -> per line
    available / partial (how many) / backorder. Nothing is reserved."""
    data = json_body()
    raw = data.get("lines")
    if not isinstance(raw, list) or not raw:
        raise InvalidInput('send {"lines": [{"sku": "WID-100", "qty": 3}]}')
    lines = []
    for i, l in enumerate(raw):
        if not isinstance(l, dict):
            raise InvalidInput(f"lines[{i}] must be an object with sku and qty")
        qty = to_qty(l.get("qty"), f"lines[{i}].qty")
        QTY_MAX = rules.schema()["order"]["lines[].qty"]["max"]   # as much as an order line may ask
        if not 1 <= qty <= QTY_MAX:
            raise InvalidInput(f"lines[{i}].qty must be a whole number from 1 to {QTY_MAX}, e.g. 3, not {qty}")
        lines.append({"line": i + 1, "sku": clean_sku(l.get("sku"), f"lines[{i}].sku"), "qty": qty})
    return jsonify({"lines": [a.as_dict() for a in services.stock().availability(lines)]})


def _public(doc: dict) -> dict:
    return {k: doc[k] for k in ("_id", "_rev", "sku", "warehouse", "on_hand", "reserved", "description")
            if k in doc} | {"available": available(doc)}


# -- shipments -------------------------------------------------------------------------------------
@bp.get("/orders/<number>/shipments")
@api_auth_required
def get_shipments(number):
    svc = services.order_service()
    order = svc.get(number)
    return jsonify({"order": order["number"], "status": order["status"],
                    "shipments": svc.shipments().of_order(order)})


@bp.post("/orders/<number>/shipments")
@api_auth_required
def post_shipment(number):
    """{"warehouse": "MAIN", "lines": [{"line": 1, "qty": 2}], "carrier": "DHL", "tracking": "..."}:
    lines may be left out to ship everything the order holds (one shipment per warehouse)."""
    data = json_body()
    unknown = sorted(set(data) - {"warehouse", "lines", "carrier", "tracking", "rev"})
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; allowed: carrier, lines, rev, tracking, warehouse")
    svc = services.order_service()

    def ship() -> Outcome:
        docs, order = svc.ship(number, data.get("warehouse"), data.get("lines"), data.get("carrier"),
                               data.get("tracking"), data.get("rev"))
        return Outcome(201, {"shipments": docs, "order": order})
    return respond(idempotent(svc.db, svc.access.name, svc.clock, request_fingerprint(data), ship))
