"""Customer pages (the CRM link): the profiles by id, one profile with its credit exposure and
how it weighs on priority, a profile form and a feed upload for the Credit role."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from oms.core.money import format_cents
from oms.crm.customers import credit_check, credit_rules, external_id, priority_rules
from views import catalog

from . import services
from .auth import login_required

bp = Blueprint("customers", __name__, url_prefix="/customers")

FORM_FIELDS = ("name", "tier", "credit_limit", "open_balance", "days_late", "currency", "partner")


def _may_change(access) -> bool:
    return access.at_least("manager") or (access.at_least("editor") and "[Credit]" in access.roles)


def _page(template, **ctx):
    access = services.current_access()
    return render_template(template, views=catalog.visible_to(access), may_change=_may_change(access), **ctx)


@bp.get("")
@login_required
def index():
    docs, nxt = services.customers().page(request.args.get("after") or None, limit=50)
    return _page("customers.html", docs=docs, next_after=nxt, external_id=external_id)


@bp.get("/<ref>")
@login_required
def show(ref):
    svc = services.customers()
    doc = svc.get(ref)
    by_state = svc.open_orders(doc["_id"])
    exposure = svc.exposure_cents(doc)
    headroom = credit_check(doc, 0, exposure)
    return _page("customer.html", c=doc, ext=external_id(doc["_id"]), by_state=by_state, exposure=exposure,
                 headroom=headroom, rules=credit_rules(), tier_points=priority_rules()["tier_points"],
                 money=format_cents)


@bp.post("/<ref>")
@login_required
def update(ref):
    f = request.form
    data = {k: f.get(k, "").strip() for k in FORM_FIELDS if f.get(k, "").strip()}
    data["credit_hold"] = "true" if f.get("credit_hold") else "false"
    outcome, doc = services.customers().upsert(ref, data)
    flash("Profile saved." if outcome != "unchanged" else "Nothing changed.")
    return redirect(url_for("customers.show", ref=external_id(doc["_id"])), 303)


@bp.post("/import")
@login_required
def import_feed():
    report = services.customers().import_rows(services.uploaded_feed("customers", "CRM feed"))
    return _page("import_report.html", what="customers", report=report.as_dict(), back=url_for("customers.index"))
