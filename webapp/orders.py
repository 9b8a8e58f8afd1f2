"""Order pages: the New order page (order entry), the order document, and its workflow actions."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, redirect, render_template, request, url_for

from oms.core.errors import InvalidInput
from oms.ordering import workflow
from oms.store.idempotency import KeyMismatch

from . import services
from .auth import login_required
from .entry import START_ROWS, decimal_comma_here, entry_fragment, entry_page, form_once, place, placed_with
from .forms import EntryForm, messages_by_field
from .forms import form_to_input  # noqa: F401  (the amend and partner forms read their lines with it)
from .replication import competing  # versions left by replication

bp = Blueprint("orders", __name__, url_prefix="/orders")



@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """The New order page. For htmx, the fragment its HX-Target names (_entry_fragment): customer
    or product matches, the chosen customer, the lines after picking, adding or removing one,
    the totals; a fragment never writes. A plain POST places the order or saves it as a draft."""
    entry = EntryForm.read(request.form if request.method == "POST" else request.args, decimal_comma_here())
    htmx = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    if htmx:
        fragment = entry_fragment(request.headers.get("HX-Target") or "", entry)
        if fragment is not None:
            return fragment
    if request.method == "POST" and not htmx:
        entry = entry.compact(START_ROWS)   # the domain's line N is the page's row N again
        try:
            doc = place(entry, form_once())
        except InvalidInput as exc:
            beside, top = messages_by_field(exc.reason, exc.fields, entry.filled())
            return entry_page(entry, beside, top), 400
        except KeyMismatch:
            placed = placed_with(form_once())
            top = [f"This form already placed {placed}; to place another order, start a new one."
                   if placed else "This form was already sent; start a new order."]
            return entry_page(entry, {}, top, once=uuid.uuid4().hex), 409
        if not services.current_access().at_least("reader"):
            # A Depositor may place orders but read none (Notes): confirm without showing it.
            return render_template("deposited.html", number=doc["number"])
        return redirect(url_for("orders.show", number=doc["number"]), 303)
    return entry_page(entry.compact(START_ROWS) if not entry.rows else entry)


@bp.get("/<number>")
@login_required
def show(number):
    access = services.current_access()
    svc = services.order_service(access)
    doc = svc.get(number)
    return render_template("order.html", order=doc, actions=workflow.actions_for(access, doc),
                           comments=svc.comments(number), may_comment=access.at_least("author"),
                           competing=competing(doc))


@bp.get("/<number>/act")
@login_required
def act_page(number):
    """A step is taken from the order page; reloading its answer shows the order again."""
    return redirect(url_for("orders.show", number=number), 303)


@bp.post("/<number>/act")
@login_required
def act(number):
    services.order_service().act(number, request.form.get("action", ""),
                                 reason=request.form.get("reason"), rev=request.form.get("rev"))
    return redirect(url_for("orders.show", number=number), 303)


@bp.route("/<number>/amend", methods=["GET", "POST"])
@login_required
def amend(number):
    svc = services.order_service()
    doc, error = svc.get(number), None
    if request.method == "POST":
        try:
            svc.amend(number, form_to_input(request.form)["lines"], request.form.get("reason"),
                      rev=request.form.get("rev"))
            return redirect(url_for("orders.show", number=number), 303)
        except InvalidInput as exc:
            error = exc.reason
    may = workflow.may_act(services.current_access(), doc, "amend")
    return render_template("amend.html", order=doc, error=error, may_amend=may), (400 if error else 200)


@bp.get("/<number>/versions/<int:version>")
@login_required
def version(number, version):
    svc = services.order_service()
    kept = next((v for v in svc.versions(number) if v["version"] == version), None)
    if kept is None:
        abort(404, f"{number} has no kept version {version}.")
    return render_template("order_version.html", order=kept)


@bp.post("/<number>/comments")
@login_required
def comment(number):
    svc = services.order_service()
    svc.comment(number, request.form.get("text", ""))
    if request.headers.get("HX-Request"):
        return render_template("_comments.html", order=svc.get(number), comments=svc.comments(number),
                               may_comment=True)
    return redirect(url_for("orders.show", number=number) + "#comments", 303)
