"""The notifications page and the badge in the top bar (loaded by htmx after the page)."""
from __future__ import annotations

from flask import Blueprint, make_response, render_template, request

from oms.agents import notifications
from views import catalog
from views.reader import decode_cursor, encode_cursor

from . import services
from .auth import login_required

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def index():
    access = services.current_access()
    db = services.person_db(access)
    before = decode_cursor(request.args.get("before"))
    seen_before = notifications.last_seen(db, access)
    items, nxt = notifications.page(db, access, before)
    if before is None:
        notifications.mark_seen(db, access)
    return render_template("notifications.html", items=items, next_cursor=encode_cursor(nxt), seen_before=seen_before,
                           principals=notifications.principals(access), views=catalog.visible_to(access))


@bp.get("/badge")
@login_required
def badge():
    access = services.current_access()
    resp = make_response(render_template("_badge.html", unseen=notifications.unseen(services.person_db(access), access)))
    resp.headers["Cache-Control"] = "no-store"
    return resp
