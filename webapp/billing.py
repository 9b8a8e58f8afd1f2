"""Billing pages: an invoice as a document for paper (and its PDF), and the payment form. An
order's invoices are listed on the order page; issuing them is an action there."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from oms.billing.invoices import billing_rules
from oms.billing.returns import returnable
from oms.ordering import workflow
from oms.core.errors import InvalidInput
from oms.crm.customers import external_id
from oms.interchange import invoice_export
from views import catalog

from . import services
from .auth import login_required
from .forms import line_field, line_rows
from .printing import invoice_page

bp = Blueprint("billing", __name__)


def _may_record(access) -> bool:
    return services.order_service(access).billing().may_issue()


@bp.get("/invoices")
@login_required
def invoices():
    """Open invoices, oldest due first, overdue ones marked; ?all=1 lists paid ones too;
    ?format=csv (json, xml) downloads the list."""
    access = services.current_access()
    rows = services.order_service(access).billing().listing(open_only=not request.args.get("all"))
    if request.args.get("format"):
        text, mimetype = invoice_export.render(rows, request.args["format"])
        return Response(text, mimetype=mimetype,
                        headers={"Content-Disposition": f'attachment; filename="invoices.{request.args["format"]}"'})
    return render_template("invoices.html", rows=rows, all=bool(request.args.get("all")),
                           may_record=_may_record(access), views=catalog.visible_to(access))


@bp.get("/invoices/<number>")
@login_required
def invoice(number):
    """The invoice to read and print; ?format=pdf draws it as PDF."""
    access = services.current_access()
    inv = services.order_service(access).billing().get(number)
    links = [(url_for("orders.show", number=inv["order"]), f"← Order {inv['order']}")]
    if _may_record(access):
        if inv["unpaid_cents"] > 0:
            links.append((url_for("billing.payment", customer=external_id(inv["customer"]["id"]), invoice=inv["number"]),
                          "Record a payment"))
        links.append((url_for("billing.new_credit_note", number=inv["number"]), "Issue a credit note"))
    links += [(url_for("billing.credit_note", number=c["credit_note"]), f"Credit note {c['credit_note']}")
              for c in inv["credit_notes"]]
    return invoice_page(inv, request.args.get("format") == "pdf", links)


@bp.get("/credit-notes/<number>")
@login_required
def credit_note(number):
    """The credit note to read and print; ?format=pdf draws it as PDF."""
    access = services.current_access()
    doc = services.order_service(access).billing().credit_note(number)
    links = [(url_for("orders.show", number=doc["order"]), f"← Order {doc['order']}"),
             (url_for("billing.invoice", number=doc["invoice"]), f"Invoice {doc['invoice']}")]
    return invoice_page(doc, request.args.get("format") == "pdf", links)


@bp.route("/invoices/<number>/credit", methods=["GET", "POST"])
@login_required
def new_credit_note(number):
    """Credit an invoice: how many of each line it billed, its shipping charge, and why."""
    access = services.current_access()
    billing = services.order_service(access).billing()
    inv = billing.get(number)
    errors: dict[str, str] = {}
    values = request.form
    if request.method == "POST":
        lines = line_rows(values, inv["lines"])
        try:
            doc = billing.credit(number, lines, shipping=bool(values.get("shipping")), reason=values.get("reason"))
        except InvalidInput as exc:
            fields = exc.fields or {"lines": str(exc)}
            errors = {line_field(k, lines): v for k, v in fields.items()}
        else:
            flash(f"Credit note {doc['number']} issued: {doc['totals']['gross_cents'] / 100:,.2f} {doc['currency']}.")
            return redirect(url_for("billing.credit_note", number=doc["number"]), 303)
    return render_template("credit_note_form.html", inv=inv, values=values, errors=errors, may_record=_may_record(access),
                           views=catalog.visible_to(access)), 400 if errors else 200


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


@bp.route("/orders/<number>/returns/new", methods=["GET", "POST"])
@login_required
def new_return(number):
    """Request a return: how many of each line come back, why, and refund or replacement."""
    access = services.current_access()
    svc = services.order_service(access)
    order = svc.get(number)
    errors: dict[str, str] = {}
    values = request.form
    if request.method == "POST":
        lines = line_rows(values, order["lines"], ("reason", "outcome"))
        try:
            order = svc.returns().request(number, lines, values.get("warehouse") or None, values.get("note"))
        except InvalidInput as exc:
            fields = exc.fields or {"lines": str(exc)}
            errors = {line_field(k, lines): v for k, v in fields.items()}
        else:
            flash(f"Return {order['returns'][-1]['number']} requested.")
            return redirect(url_for("orders.show", number=order["number"]), 303)
    return render_template("return_form.html", order=order, values=values, errors=errors, left=returnable(order),
                           rules=billing_rules(), may=workflow.may_act(access, order, "request_return"),
                           views=catalog.visible_to(access)), 400 if errors else 200


@bp.post("/orders/<number>/returns/<rma>/<step>")
@login_required
def return_step(number, rma, step):
    """Receive the return, refund it, or send its replacement."""
    returns = services.order_service().returns()
    if step == "receive":
        returns.receive(number, rma)
        flash(f"Return {rma} received.")
    elif step == "refund":
        _, notes = returns.refund(number, rma)
        flash(f"Return {rma} refunded: credit note {', '.join(n['number'] for n in notes)}.")
    elif step == "replace":
        returns.replace(number, rma, request.form.get("warehouse") or None)
        flash(f"Replacement for return {rma} shipped.")
    else:
        raise InvalidInput("a return is received, refunded or replaced")
    return redirect(url_for("orders.show", number=number), 303)


@bp.app_template_global()
def return_steps(order: dict, r: dict) -> list[tuple[str, str]]:
    """The steps this person may take on return `r` now: (step, button title, question to ask first)."""
    access = services.current_access()
    kinds = {l["outcome"] for l in r["lines"]}
    wanted = []
    if r["status"] == "requested":
        wanted.append(("receive", "receive_return"))
    if r["status"] == "received" and "refund" in kinds and not r.get("refunded"):
        wanted.append(("refund", "refund"))
    if r["status"] == "received" and "replace" in kinds and not r.get("replaced"):
        wanted.append(("replace", "replace"))
    return [(step, workflow.transition(action)["title"], workflow.transition(action).get("confirm"))
            for step, action in wanted if workflow.may_act(access, order, action)]


@bp.app_template_global()
def offered_return(order: dict) -> bool:
    """Does the order page offer "Request a return" (the step is open and something is left)?"""
    return (workflow.may_act(services.current_access(), order, "request_return")
            and any(q > 0 for q in returnable(order).values()))


@bp.app_context_processor
def _return_rules():
    return {"return_rules": billing_rules()}
