"""Order pages: the order form, the order document, and its workflow actions."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from oms.core.errors import InvalidInput
from oms.ordering import workflow

from . import services
from .auth import login_required
from .replication import competing  # versions left by replication

bp = Blueprint("orders", __name__, url_prefix="/orders")

MAX_FORM_LINES = 20


def form_to_input(form) -> dict:
    """The order form's fields (line-N-sku...) as the same input the API takes."""
    lines = []
    for i in range(MAX_FORM_LINES):
        sku, qty, price = (form.get(f"line-{i}-{f}", "").strip() for f in ("sku", "qty", "unit_price"))
        if sku or qty or price:
            lines.append({"sku": sku, "qty": qty, "unit_price": price,
                          "description": form.get(f"line-{i}-description", "").strip()})
    data = {"customer": form.get("customer", "").strip(), "lines": lines,
            "status": "submitted" if form.get("submit_now") else "draft"}
    for field in ("promised_date", "notes", "currency"):
        if form.get(field, "").strip():
            data[field] = form[field].strip()
    return data


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    error, values = None, request.form
    if request.method == "POST":
        try:
            doc = services.order_service().create(form_to_input(request.form))
            if not services.current_access().at_least("reader"):
                # A Depositor may place orders but read none (Notes): confirm without showing it.
                return render_template("deposited.html", number=doc["number"])
            return redirect(url_for("orders.show", number=doc["number"]), 303)
        except InvalidInput as exc:
            error = exc.reason
    return render_template("order_form.html", error=error, values=values,
                           line_count=max(3, sum(1 for k in values if k.endswith("-sku")))), (400 if error else 200)


@bp.get("/<number>")
@login_required
def show(number):
    access = services.current_access()
    svc = services.order_service(access)
    doc = svc.get(number)
    return render_template("order.html", order=doc, actions=workflow.actions_for(access, doc),
                           comments=svc.comments(number), may_comment=access.at_least("author"),
                           competing=competing(doc))


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
    return render_template("amend.html", order=doc, error=error), (400 if error else 200)


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
