"""Import and export pages: upload a file (CSV, JSON, XML or DXL) and see what went in and what
did not; download a view or a selection, streamed. Runs as the signed-in person."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from oms.interchange import exporting, formats, importing
from oms.interchange.records import ImportRefused
from views import catalog

from . import services
from .auth import login_required

bp = Blueprint("transfer", __name__, url_prefix="/transfer")


def _page(status=200, **ctx):
    access = services.current_access()
    template = "_import_report.html" if request.headers.get("HX-Request") else "transfer.html"
    resp = render_template(template, views=catalog.visible_to(access), **ctx)
    return resp, status, {"Vary": "HX-Request"}


@bp.get("")
@login_required
def index():
    return _page()


@bp.post("/import")
@login_required
def upload():
    access = services.current_access()
    if not access.at_least("author"):
        abort(403, f"As {access.level_title} you may not import.")
    f = request.files.get("file")
    if f is None or not f.filename:
        return _page(400, error="Choose a file to import.")
    kind = request.form.get("kind") or None
    try:
        fmt = formats.format_from_name(f.filename)
        report = importing.import_bytes(services.import_context(access), f.read(), fmt, kind, filename=f.filename)
    except ImportRefused as exc:
        return _page(400, error=f"{f.filename}: {exc.reason}")
    return _page(200, report=report.as_dict())


@bp.get("/export")
@login_required
def export():
    access = services.current_access()
    vd = catalog.get(request.args.get("view", "all_orders"))
    if vd is None or not vd.may_open(access):
        abort(404, "There is no such view for you.")
    numbers = [n.strip() for n in request.args.get("numbers", "").split(",") if n.strip()] or None
    stream = exporting.export(services.person_db(access), access, vd, request.args.get("format", "csv"),
                              request.args.get("shape", "rows"), numbers)
    return Response(stream_with_context(stream.chunks), mimetype=stream.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{stream.filename}"'})


@bp.get("/export/billing")
@login_required
def export_billing():
    """Invoices (open, or all) or payments received, as CSV, JSON or XML: for the bookkeeping."""
    from oms.interchange import invoice_export
    access = services.current_access()
    billing = services.order_service(access).billing()
    what, fmt = request.args.get("what", "invoices"), request.args.get("format", "csv")
    if what == "payments":
        text, mimetype = invoice_export.render_payments(billing.payments(request.args.get("since") or None), fmt)
    elif what in ("invoices", "open_invoices"):
        text, mimetype = invoice_export.render(billing.listing(open_only=what == "open_invoices"), fmt)
    else:
        abort(404, "There is no such export.")
    return Response(text, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{what}.{fmt}"'})
