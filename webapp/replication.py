"""Replication pages for staff: the status of every replication, and a conflicted order's
competing versions side by side with a merge form (an Editor or above decides, rules/acl.json).
Thin handlers: the work is in replication/ (conflicts.py, status.py)."""
from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, abort, redirect, render_template, request, url_for

from oms.core.errors import InvalidInput
from oms.ordering.orders import order_id
from oms.store.couch import Conflict, Forbidden, NotFound
from replication import conflicts, replicator, status
from replication.partners import Partners

from . import services
from .auth import login_required
from .exchanges import describe

bp = Blueprint("replication", __name__, url_prefix="/replication")


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(show_value)


def competing(doc: dict) -> int:
    """How many other versions of this order replication left (0 for most); for the order page."""
    try:
        head = services.person_db().get(doc["_id"], conflicts=True)
    except NotFound:
        return 0
    return len(head.get("_conflicts") or [])


def show_value(value) -> str:
    if value is conflicts.MISSING or value is None:
        return "—"
    if isinstance(value, list) and value and isinstance(value[0], dict) and "sku" in value[0]:
        return "; ".join(f"{l.get('sku')} × {l.get('qty')} @ {l.get('unit_price_cents', 0) / 100:,.2f}"
                         + (f" (shipped {l['shipped_qty']})" if l.get("shipped_qty") else "") for l in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def _require(level: str, what: str):
    access = services.current_access()
    if not access.at_least(level):
        abort(403, f"As {access.level_title} you may not {what}.")
    return access


@bp.get("/")
@login_required
def status_page():
    _require("editor", "see the replication status")
    server, settings = services.couch(), services.settings()
    data = status.overview(server, settings)
    titles = {p["id"]: p.get("title") for p in Partners(server, settings, progress=lambda *_: None).list()}
    partners = [describe(st, titles) for st in data["partners"]]
    sites = [describe(st, titles) for st in data["sites"]]
    restarted = next((x for x in partners if x.restart and x.restart == request.args.get("restarted")), None)
    return render_template("replication_status.html", partners=partners, sites=sites, restarted=restarted,
                           views=_views())


@bp.post("/restart")
@login_required
def restart():
    _require("manager", "restart replications")
    doc_id = request.form.get("id", "")
    if not doc_id.startswith(services.settings().namespace.scoped("oms-partner-")):   # this desk's partners only
        raise InvalidInput("Only an exchange with a partner can be restarted here; a branch office's runs on "
                           "the branch's own server.")
    try:
        replicator.restart(services.couch(), doc_id)
    except NotFound:
        abort(404, "There is no such exchange any more; reload the page.")
    return redirect(url_for("replication.status_page", restarted=doc_id), 303)


@bp.route("/conflicts/<number>", methods=["GET", "POST"])
@login_required
def conflict(number):
    access = services.current_access()
    db = services.person_db(access)
    doc_id = order_id(number)
    error, code = None, 200
    if request.method == "POST":
        choices = {k[len("field:"):]: v for k, v in request.form.items() if k.startswith("field:")}
        try:
            conflicts.resolve(db, access, doc_id, request.form.getlist("revs"), choices,
                              request.form.get("keep") or None, _now())
            return redirect(url_for("orders.show", number=number), 303)
        except InvalidInput as exc:
            error, code = exc.reason, 400
        except Forbidden as exc:
            error, code = exc.reason, 403
        except Conflict as exc:
            error, code = exc.reason, 409
    versions = conflicts.compare(db, doc_id)
    if versions is None:
        try:
            doc = services.order_service(access).get(number)
        except NotFound:
            abort(404, f"There is no order {number}.")
        return render_template("conflict.html", order=doc, v=None, error=error, views=_views()), code
    if not access.may_read(versions.leaves[0]):
        abort(404, f"There is no order {number}.")
    return render_template("conflict.html", order=versions.leaves[0], v=versions, error=error,
                           may_resolve=access.at_least("editor"), defaults=_defaults(versions),
                           views=_views()), code


def _defaults(v: conflicts.Versions) -> dict[str, str]:
    """Preselect, per differing field, the version that changed it (else the winner)."""
    out = {}
    for row in v.differing:
        out[row.name] = v.revs[row.changed_in[0]] if len(row.changed_in) == 1 else v.revs[0]
    return out


def _views():
    from views import catalog
    return catalog.visible_to(services.current_access())


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
