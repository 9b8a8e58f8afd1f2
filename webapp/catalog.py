"""Products pages (the catalog): products by SKU with their list prices and tax class, a search,
one product's form, a feed upload, and the price lists, for the [Catalog] role and Managers;
everyone who may read orders may look."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from oms.catalog import pricing
from oms.catalog.products import check_sku
from oms.core.errors import InvalidInput
from views import catalog as view_catalog

from . import services
from .auth import login_required

bp = Blueprint("catalog", __name__, url_prefix="/products")


def _may_change(access) -> bool:
    return access.at_least("manager") or (access.at_least("editor") and "[Catalog]" in access.roles)


def _page(template, status=200, **ctx):
    access = services.current_access()
    rules = pricing.pricing_rules()
    return render_template(template, views=view_catalog.visible_to(access), may_change=_may_change(access),
                           currencies=list(rules["currencies"]), tax_classes=rules["tax_classes"], **ctx), status


@bp.get("")
@login_required
def index():
    svc, q = services.products(), request.args.get("q", "").strip()
    if request.args.get("sku", "").strip():   # "Add or change a product": open its form
        return redirect(url_for("catalog.show", sku=check_sku(request.args["sku"])), 303)
    if q:
        found = svc.search(q, limit=50, active_only=False)
        docs, nxt = [d for d in (svc.db.get_or_none(f"product:{f['sku']}") for f in found) if d], None
    else:
        docs, nxt = svc.page(request.args.get("after") or None, limit=50)
    return _page("products.html", docs=docs, next_after=nxt, q=q, price_lists=services.price_lists().all())


@bp.route("/<sku>", methods=["GET", "POST"])
@login_required
def show(sku):
    """One product; a POST saves the form (create or change), refused input stays in the form
    with the reason beside it."""
    svc, sku, error = services.products(), check_sku(sku), None
    doc = svc.db.get_or_none(f"product:{sku}")
    values = dict(request.form) if request.method == "POST" else {}
    if request.method == "POST":
        data = {k: request.form.get(k, "").strip() for k in ("description", "unit", "tax_class", "status")}
        data.update({f"price_{c}": request.form.get(f"price_{c}", "").strip() for c in pricing.pricing_rules()["currencies"]})
        try:
            outcome, doc = svc.upsert(sku, data)
            flash("Product saved." if outcome != "unchanged" else "Nothing changed.")
            return redirect(url_for("catalog.show", sku=sku), 303)
        except InvalidInput as exc:
            error = exc.reason
    return _page("product.html", 400 if error else 200, sku=sku, doc=doc, values=values, error=error)


@bp.post("/import")
@login_required
def import_feed():
    report = services.products().import_rows(services.uploaded_feed("products", "product feed"))
    return _page("import_report.html", what="products", report=report.as_dict(), back=url_for("catalog.index"))
