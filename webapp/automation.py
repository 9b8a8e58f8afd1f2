"""Managers' pages for the automation: webhooks (add, turn off) and the agents' run log."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from oms.agents import webhooks as hooks
from oms.core.errors import InvalidInput
from views import catalog

from . import services
from .auth import login_required, require_manager

bp = Blueprint("automation", __name__, url_prefix="/admin")


@bp.route("/webhooks", methods=["GET", "POST"])
@login_required
def webhooks():
    access = require_manager("manage the automation")
    db = services.person_db(access)
    error, status = None, 200
    if request.method == "POST":
        try:
            hooks.register(db, access.name, request.form.get("url", ""),
                           [e for e in request.form.get("events", "order.*").replace(",", " ").split()],
                           [r for r in request.form.get("readers", "").replace(",", " ").split()])
            return redirect(url_for("automation.webhooks"), 303)
        except InvalidInput as exc:
            error, status = exc.reason, 400
    return render_template("webhooks.html", hooks=hooks.list_hooks(db), error=error,
                           views=catalog.visible_to(access)), status


@bp.post("/webhooks/<hook_id>/off")
@login_required
def webhook_off(hook_id):
    access = require_manager("manage the automation")
    hooks.deactivate(services.person_db(access), hook_id)
    return redirect(url_for("automation.webhooks"), 303)


@bp.get("/agents")
@login_required
def runs():
    access = require_manager("manage the automation")
    res = services.person_db(access).view("automation", "agent_runs_by_time", descending=True, limit=100,
                                          include_docs=True)
    return render_template("agent_runs.html", runs=[r["doc"] for r in res["rows"] if r.get("doc")],
                           views=catalog.visible_to(access))
