"""Billing pages: an invoice as a document for paper (and its PDF), and the payment form. An
order's invoices are listed on the order page; issuing them is an action there."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from oms.billing.invoices import billing_rules
from oms.core.errors import InvalidInput
from oms.crm.customers import external_id
from views import catalog

from . import services
from .auth import login_required
from .printing import invoice_html, invoice_pdf

bp = Blueprint("billing", __name__)


def _may_record(access) -> bool:
    r = billing_rules()
    return access.at_least("manager") or (access.at_least(r["issue_min_level"])
                                          and any(role in access.roles for role in r["issue_roles"]))


@bp.get("/invoices/<number>")
@login_required
def invoice(number):
    """The invoice to read and print; ?format=pdf draws it as PDF."""
    access = services.current_access()
    inv = services.order_service(access).billing().get(number)
    if request.args.get("format") == "pdf":
        return Response(invoice_pdf(inv), mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{inv["number"]}.pdf"'})
    return invoice_html(inv, may_record=_may_record(access))


@bp.route("/payments/new", methods=["GET", "POST"])
@login_required
def payment():
    """Record a payment: for one invoice, or the customer's oldest unpaid invoices first."""
    access = services.current_access()
    billing = services.order_service(access).billing()
    form = request.form if request.method == "POST" else request.args
    values = {k: (form.get(k) or "").strip() for k in ("customer", "amount", "received_on", "method", "reference", "invoice")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = {k: values[k] for k in ("customer", "amount", "received_on", "method", "reference") if values[k]}
        if values["invoice"]:
            data["allocations"] = [{"invoice": values["invoice"], "amount": values["amount"]}]
        try:
            pay, closed = billing.record_payment(data)
        except InvalidInput as exc:
            errors = {_field(k): v for k, v in (exc.fields or {"amount": str(exc)}).items()}
        else:
            shares = ", ".join(f"{a['invoice']} {a['amount_cents'] / 100:,.2f}" for a in pay["allocations"])
            flash(f"Payment of {pay['amount_cents'] / 100:,.2f} {pay['currency']} recorded: {shares}."
                  + (f" Closed: {', '.join(o['number'] for o in closed)}." if closed else ""))
            first = pay["allocations"][0]["invoice"]
            return redirect(url_for("billing.invoice", number=first), 303)
    open_invoices = []
    if values["customer"]:
        cid = values["customer"] if values["customer"].startswith("customer:") else f"customer:{values['customer']}"
        open_invoices = billing.open_invoices(cid)
    status = 400 if errors else 200
    return render_template("payment_form.html", values=values, errors=errors, open_invoices=open_invoices,
                           methods=billing_rules()["payment_methods"], may_record=_may_record(access),
                           views=catalog.visible_to(access), external_id=external_id), status


def _field(key: str) -> str:
    """The form's field for a problem the service names (allocations[0].amount -> amount)."""
    if key.startswith("allocations[0].invoice"):
        return "invoice"
    if key.startswith("allocations"):
        return "amount"
    return key


@bp.app_template_global()
def order_invoices(order: dict) -> list[dict]:
    """The order's invoices with what each still asks for, for the order page."""
    return services.order_service().billing().of_order(order) if order.get("invoices") else []
