"""The desk: the navigator of views and the view pane (Notes client style). One route serves the
full page or, for htmx, just the rows (Hypermedia Systems: branch on HX-Request, Vary on it)."""
from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for

from views import catalog
from views.reader import decode_cursor, encode_cursor, read_page

from . import services
from .auth import login_required

bp = Blueprint("desk", __name__)


@bp.get("/")
@login_required
def home():
    if not services.current_access().at_least("reader"):
        return redirect(url_for("orders.new"))  # Depositors place orders but read none
    return redirect(url_for("desk.view", name="all_orders"))


@bp.get("/views/<name>")
@login_required
def view(name):
    access = services.current_access()
    vd = catalog.get(name)
    if vd is None:
        abort(404, f"There is no view called {name!r}.")
    if not vd.may_open(access):
        abort(403, f"As {access.level_title} you may not open {vd.title}.")
    page = read_page(services.person_db(access), vd, access,
                     after=decode_cursor(request.args.get("after")),
                     before=decode_cursor(request.args.get("before")))
    ctx = dict(vd=vd, page=page, views=catalog.visible_to(access),
               next_cursor=encode_cursor(page.next_after), prev_cursor=encode_cursor(page.prev_before))
    template = "_view_pane.html" if request.headers.get("HX-Request") else "view.html"
    resp = make_response(render_template(template, **ctx))
    resp.headers["Vary"] = "HX-Request"
    return resp
