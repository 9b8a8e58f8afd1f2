"""JSON API for the catalog, on the /api/v1 blueprint of webapp.api.v1: products (one, a page,
upsert, a feed), price lists, and a quote: what an order would cost (prices, tax, totals, and
whether it needs price approval) without writing it. Every write goes to CouchDB as the
authenticated person; validate_doc_update decides who may change the catalog."""
from __future__ import annotations

from flask import jsonify, request

from oms.catalog.products import check_sku
from oms.interchange import feeds
from oms.ordering import orders
from webapp import services

from webapp.auth import api_auth_required

from .support import created, json_body, limit_arg
from .v1 import bp


@bp.get("/products")
@api_auth_required
def list_products():
    """Products by SKU, paged by key (?after=<SKU>); ?q= searches SKUs and description words."""
    svc = services.products()
    if request.args.get("q"):
        return jsonify({"products": svc.search(request.args["q"], limit=limit_arg(12, most=50),
                                               active_only=False), "next": None})
    after = request.args.get("after")
    docs, nxt = svc.page(check_sku(after) if after else None, limit=limit_arg(50, most=200))
    return jsonify({"products": docs, "next": nxt})


@bp.get("/products/<sku>")
@api_auth_required
def get_product(sku):
    return jsonify(services.products().get(sku))


@bp.put("/products/<sku>")
@api_auth_required
def put_product(sku):
    outcome, doc = services.products().upsert(sku, json_body())
    return created({"result": outcome, "product": doc}, outcome == "created")


@bp.post("/products/import")
@api_auth_required
def import_products():
    rows = feeds.parse(request.get_data(), request.content_type or "", key="products")
    return jsonify(services.products().import_rows(rows).as_dict())


@bp.get("/pricelists")
@api_auth_required
def list_pricelists():
    return jsonify({"pricelists": services.price_lists().all()})


@bp.put("/pricelists/<ref>")
@api_auth_required
def put_pricelist(ref):
    outcome, doc = services.price_lists().put(ref, json_body())
    return created({"result": outcome, "pricelist": doc}, outcome == "created")


@bp.post("/orders/quote")
@api_auth_required
def quote():
    """The order this body would create, priced and taxed, and why it would need price approval;
    nothing is written and no number is taken."""
    return jsonify(orders.quote(services.order_service(), json_body()))
