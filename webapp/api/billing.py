"""JSON API for billing, on the /api/v1 blueprint of webapp.api.v1: an order's invoices (list,
issue what has shipped), one invoice (JSON or PDF), credit notes, payments, and returns. Every write goes to CouchDB as
the authenticated person (the [Billing] role or a Manager)."""
from __future__ import annotations

from flask import Response, jsonify, request

from oms.core.errors import InvalidInput
from oms.interchange import invoice_export
from oms.store.idempotency import Outcome
from webapp import services
from webapp.auth import api_auth_required
from webapp.documents import confirmation_of, packing_slip_of, pick_list_of
from webapp.printing import invoice_page, pdf_response

from .support import idempotent, json_body, request_fingerprint, respond
from .v1 import bp


@bp.get("/orders/<number>/invoices")
@api_auth_required
def get_invoices(number):
    svc = services.order_service()
    order = svc.get(number)
    return jsonify({"order": order["number"], "status": order["status"], "invoices": svc.billing().of_order(order)})


@bp.post("/orders/<number>/invoices")
@api_auth_required
def post_invoices(number):
    """{"rev": "..."} (optional): invoice what the order has shipped and no invoice bills yet."""
    data = json_body("the request") if request.get_data() else {}
    unknown = sorted(set(data) - {"rev"})
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; allowed: rev")
    svc = services.order_service()

    def issue() -> Outcome:
        docs, order = svc.billing().issue(number, data.get("rev"))
        return Outcome(201, {"invoices": docs, "order": order})
    return respond(idempotent(svc.db, svc.access.name, svc.clock, request_fingerprint(data), issue))


@bp.get("/invoices")
@api_auth_required
def list_invoices():
    """Open invoices by due date (?all=1: paid ones too), as JSON, or ?format=csv / xml."""
    rows = services.order_service().billing().listing(open_only=not request.args.get("all"))
    fmt = request.args.get("format", "json")
    text, mimetype = invoice_export.render(rows, fmt)
    return Response(text, mimetype=mimetype)


@bp.get("/invoices/<number>")
@api_auth_required
def get_invoice(number):
    return jsonify(services.order_service().billing().get(number))


@bp.get("/invoices/<number>.pdf")
@api_auth_required
def get_invoice_pdf(number):
    return invoice_page(services.order_service().billing().get(number), as_pdf=True)


@bp.post("/invoices/<number>/credit_notes")
@api_auth_required
def post_credit_note(number):
    """{"lines": [{"line": 1, "qty": 2}], "shipping": false, "reason": "..."}: lines left out
    credit everything the invoice billed and no credit note credits yet, shipping included."""
    data = json_body("the credit note")
    unknown = sorted(set(data) - {"lines", "shipping", "reason"})
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; allowed: lines, reason, shipping")
    svc = services.order_service()

    def credit() -> Outcome:
        return Outcome(201, svc.billing().credit(number, data.get("lines"), bool(data.get("shipping")), data.get("reason")))
    return respond(idempotent(svc.db, svc.access.name, svc.clock, request_fingerprint(data), credit))


@bp.get("/credit_notes/<number>")
@api_auth_required
def get_credit_note(number):
    return jsonify(services.order_service().billing().credit_note(number))


@bp.get("/credit_notes/<number>.pdf")
@api_auth_required
def get_credit_note_pdf(number):
    return invoice_page(services.order_service().billing().credit_note(number), as_pdf=True)


@bp.get("/payments")
@api_auth_required
def list_payments():
    """Payments received, oldest first (?since=, ?until= dates), one row per payment and invoice it
    pays, as JSON, or ?format=csv / xml."""
    payments = services.order_service().billing().payments(request.args.get("since"), request.args.get("until"))
    text, mimetype = invoice_export.render_payments(payments, request.args.get("format", "json"))
    return Response(text, mimetype=mimetype)


@bp.post("/payments")
@api_auth_required
def post_payment():
    """{"customer": "C0001", "amount": "120.50", "received_on": "2026-12-07", "method": "bank_transfer",
    "reference": "...", "allocations": [{"invoice": "INV-000001", "amount": "120.50"}]}: allocations
    may be left out to pay the customer's oldest invoices first."""
    data = json_body("the payment")
    unknown = sorted(set(data) - {"customer", "amount", "amount_cents", "received_on", "method", "reference",
                                  "allocations"})
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}")
    svc = services.order_service()

    def record() -> Outcome:
        payment, closed = svc.billing().record_payment(data)
        return Outcome(201, {"payment": payment, "closed": [o["number"] for o in closed]})
    return respond(idempotent(svc.db, svc.access.name, svc.clock, request_fingerprint(data), record))


@bp.get("/orders/<number>/returns")
@api_auth_required
def get_returns(number):
    order = services.order_service().get(number)
    return jsonify({"order": order["number"], "status": order["status"], "returns": order.get("returns") or []})


@bp.post("/orders/<number>/returns")
@api_auth_required
def post_return(number):
    """{"lines": [{"line": 1, "qty": 2, "reason": "damaged", "outcome": "refund"}], "warehouse": "MAIN",
    "note": "..."}: a return authorisation with its own number."""
    data = json_body("the return")
    unknown = sorted(set(data) - {"lines", "warehouse", "note"})
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; allowed: lines, note, warehouse")
    svc = services.order_service()

    def request_return() -> Outcome:
        order = svc.returns().request(number, data.get("lines"), data.get("warehouse"), data.get("note"))
        return Outcome(201, {"return": order["returns"][-1], "order": order})
    return respond(idempotent(svc.db, svc.access.name, svc.clock, request_fingerprint(data), request_return))


@bp.post("/orders/<number>/returns/<rma>/<step>")
@api_auth_required
def post_return_step(number, rma, step):
    """receive (Warehouse), refund (Billing: credit notes) or replace (Shipping; optional body
    {"warehouse": "EAST"} to ship the replacement from)."""
    data = json_body("the request") if request.get_data() else {}
    returns = services.order_service().returns()
    if step == "receive":
        return jsonify({"order": returns.receive(number, rma)})
    if step == "refund":
        order, notes = returns.refund(number, rma)
        return jsonify({"order": order, "credit_notes": notes})
    if step == "replace":
        order, shipment = returns.replace(number, rma, data.get("warehouse"))
        return jsonify({"order": order, "shipment": shipment})
    raise InvalidInput("the step is receive, refund or replace")


# -- the other printed documents, as PDF
@bp.get("/orders/<number>/confirmation.pdf")
@api_auth_required
def get_confirmation_pdf(number):
    _, doc = confirmation_of(number)
    return pdf_response(doc.pdf(), doc.filename)


@bp.get("/orders/<number>/shipments/<shipment>/packing-slip.pdf")
@api_auth_required
def get_packing_slip_pdf(number, shipment):
    _, doc = packing_slip_of(number, shipment)
    return pdf_response(doc.pdf(), doc.filename)


@bp.get("/warehouses/<warehouse>/pick-list.pdf")
@api_auth_required
def get_pick_list_pdf(warehouse):
    doc = pick_list_of(warehouse)
    return pdf_response(doc.pdf(), doc.filename)
