"""Stock pages (the WMS link): levels per SKU and warehouse, receipts and a feed upload for the
Warehouse role, the availability answer the order form asks for as one types (htmx fragment),
and shipping from the order page. Also the order page's CRM/WMS panel (template globals)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from markupsafe import Markup

from oms.billing import invoices as invoicing
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.crm.customers import priority as compute_priority
from oms.crm.customers import today_of
from oms.fulfilment import handoffs as fulfilment
from oms.interchange import feeds
from oms.ordering import workflow
from oms.ordering.orders import RETURN_STEPS
from oms.wms.shipments import shippable
from oms.wms.stock import allocated_by_line, available, clean_sku, clean_warehouse, held, shipped_at
from views import catalog

from . import services
from .auth import login_required

bp = Blueprint("stock", __name__)
MAX_FORM_LINES = 20


def _may_change_stock(access) -> bool:
    return access.at_least("manager") or (access.at_least("editor") and "[Warehouse]" in access.roles)


def _page(template, **ctx):
    access = services.current_access()
    return render_template(template, views=catalog.visible_to(access), may_change=_may_change_stock(access), **ctx)


@bp.get("/stock")
@login_required
def index():
    after = request.args.get("after")
    after_key = after.split("|", 1) if after and "|" in after else None
    rows, nxt = services.stock().page(after_key, limit=50)
    return _page("stock.html", rows=rows, next_after="|".join(nxt) if nxt else None)


@bp.get("/stock/<sku>")
@login_required
def show(sku):
    sku = clean_sku(sku)
    access = services.current_access()
    svc = services.stock()
    docs = svc.levels(sku)
    queue = svc.db.view("oms", "backorders_by_priority", start_key=[sku], end_key=[sku, {}], limit=100)["rows"]
    if not docs and not queue:
        abort(404, f"No warehouse stocks {sku}.")
    # Readers fields hold here too: orders this person may not read are counted, never named.
    queue = [r for r in queue if access.may_read(r["value"])]
    numbers = sorted({k.split("/")[0] for d in docs for k in d["holds"]})
    orders = svc.db.all_docs(keys=[f"order:{n}" for n in numbers], include_docs=True)["rows"] if numbers else []
    readable = {r["doc"]["number"] for r in orders if r.get("doc") and access.may_read(r["doc"])}
    return _page("stock_sku.html", sku=sku, docs=docs, queue=queue, available=available, readable=readable)


@bp.post("/stock/receive")
@login_required
def receive():
    f = request.form
    try:
        qty = int(f.get("qty", "").strip())
    except ValueError:
        raise InvalidInput(f"the quantity received must be a whole number from 1, not {f.get('qty')!r}") from None
    doc, served = fulfilment.receive(services.stock(), services.agent(), clean_sku(f.get("sku")),
                                     clean_warehouse(f.get("warehouse") or "MAIN"), qty)
    flash(f"Received {qty} x {doc['sku']} at {doc['warehouse']}; "
          + (f"{sum(s['qty'] for s in served)} went to {len(served)} waiting order line(s)." if served
             else "no order was waiting."))
    return redirect(url_for("stock.show", sku=doc["sku"]), 303)


@bp.post("/stock/import")
@login_required
def import_feed():
    report = feeds.import_stock(services.uploaded_feed("stock", "WMS feed"), services.stock(), services.agent())
    return _page("import_report.html", what="stock", report=report.as_dict(), back=url_for("stock.index"))


# -- the order form's availability answer ------------------------------------------------------------
def form_lines(values) -> list[dict]:
    """The order form's lines that have a SKU and a whole quantity (others are not asked yet)."""
    out = []
    for i in range(MAX_FORM_LINES):
        sku = (values.get(f"line-{i}-sku") or "").strip().upper()
        qty = (values.get(f"line-{i}-qty") or "").strip()
        if not sku or not (qty.isascii() and qty.isdigit()) or int(qty) < 1:  # int("²") fails
            continue
        try:
            clean_sku(sku)
        except InvalidInput:
            continue
        out.append({"line": i + 1, "sku": sku, "qty": int(qty)})
    return out


@bp.app_template_global()
def availability_for(values) -> list:
    lines = form_lines(values)
    return services.stock().availability(lines) if lines else []


@bp.app_template_global()
def avail_attrs() -> Markup:
    """htmx on the order form's SKU and quantity inputs: ask for the availability panel 300 ms
    after typing stops (no inline script; the form still posts without JavaScript)."""
    return Markup(f' hx-get="{url_for("stock.availability")}" hx-trigger="keyup changed delay:300ms, change"'
                  ' hx-target="#availability" hx-include="closest tbody" hx-sync="closest tbody:replace"')


@bp.get("/stock/availability")
@login_required
def availability():
    """The availability panel of the order form, for htmx as one types (and for a plain GET)."""
    resp = make_response(render_template("_availability.html", answers=availability_for(request.args)))
    resp.headers["Vary"] = "HX-Request"
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- shipping from the order page --------------------------------------------------------------------
@bp.post("/orders/<number>/ship")
@login_required
def ship(number):
    f = request.form
    warehouse = f.get("warehouse") or None
    lines = []
    for key, value in f.items():
        if key.startswith("ship-") and value.strip():
            try:
                lines.append({"line": int(key[5:]), "qty": int(value)})
            except ValueError:
                raise InvalidInput(f"the quantity for line {key[5:]} must be a whole number, not {value!r}") from None
    docs, order = services.order_service().ship(number, warehouse, lines or None, f.get("carrier", ""),
                                                f.get("tracking", ""), f.get("rev"))
    flash(f"Shipped {sum(l['qty'] for d in docs for l in d['lines'])} unit(s) from "
          + ", ".join(d["warehouse"] for d in docs) + ".")
    return redirect(url_for("orders.show", number=order["number"]), 303)


# -- the order page's CRM/WMS panel ------------------------------------------------------------------
@bp.app_template_global()
def needs_reason(order: dict, action: str) -> bool:
    if action == "close":   # closing before everything is invoiced and paid: a Manager's, with a reason
        return _close_problem(order) is not None
    return fulfilment.credit_rule_needs_reason(order, action)


@bp.app_template_global()
def offered(order: dict, action: str) -> bool:
    """Whether the action bar offers a step: allocating backorders only when some wait; invoicing
    when shipments wait to be billed ("Invoice" for the last of a shipped order); closing when
    it may close; never shipping (the Ship form) nor a return's steps (the Returns section)."""
    if action == "allocate_backorders":
        return bool(order.get("backorders"))
    if action in RETURN_STEPS:   # offered per return, in the order page's Returns section
        return False
    if action in ("bill", "invoice"):   # "Invoice" when it bills the last of a shipped order, else the part
        if not invoicing.unbilled(order):
            return False
        whole = all(l.get("shipped_qty", 0) >= l["qty"] for l in order["lines"])
        return (action == "invoice") == (whole and order["status"] in workflow.transition("invoice")["from"])
    if action == "close":
        access = services.current_access()
        return (access.at_least(invoicing.billing_rules()["close_override_level"])
                or _close_problem(order) is None)
    if action in ("ship", "ship_part"):   # one way to ship: the page's Ship form, with carrier and tracking
        return False
    return True


def _close_problem(order: dict) -> str | None:
    """Why this revision of the order may not close yet (billing), asked once per request: the
    action bar asks whether to offer Close and whether it needs a reason."""
    memo = g.setdefault("close_problems", {})
    key = (order["_id"], order.get("_rev"))
    if key not in memo:
        memo[key] = services.order_service().billing().close_problem(order, None)
    return memo[key]


@bp.app_template_global()
def order_links(order: dict) -> dict:
    """What the order page shows about priority, credit, stock and shipments."""
    access = services.current_access()
    customer = services.person_db(access).get_or_none(order["customer"]["id"]) or {}
    backordered = {b["line"]: b["qty"] for b in order.get("backorders") or ()}
    alloc = allocated_by_line(order)
    gone = shipped_at(order)
    lines = []
    for l in order["lines"]:
        lines.append({"line": l["line"], "sku": l["sku"], "qty": l["qty"], "allocated": alloc.get(l["line"], 0),
                      "backordered": backordered.get(l["line"], 0), "shipped": l.get("shipped_qty", 0),
                      "where": ", ".join(f"{a['warehouse']} {a['qty']}" for a in order.get("allocations") or ()
                                         if a["line"] == l["line"])})
    prio = compute_priority(customer, order, today_of(utcnow), short=bool(backordered)) if customer else None
    ship_t = workflow.transition("ship")
    can_ship = (order["status"] in ship_t["from"] and workflow.may_take(access, ship_t)
                and workflow.may_edit(access, order) and bool(shippable(order)))
    ship_from = sorted({h["warehouse"] for h in held(order)})
    return {"customer": customer, "priority": prio, "lines": lines, "allocated": "allocations" in order,
            "credit": order.get("credit"), "shipments": order.get("shipped") or [], "can_ship": can_ship,
            "ship_from": ship_from, "held": held(order), "shipped_total": sum(gone.values())}
