"""API tokens: the Manager's page to issue and revoke them, and the Bearer authenticator the API
consults (webapp/auth.api_auth_required)."""
from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for

from oms.core import rules
from oms.core.errors import InvalidInput
from oms.identity import tokens
from views import catalog

from . import services
from .auth import login_required, require_manager
from .errors import problem

bp = Blueprint("tokens", __name__, url_prefix="/admin/tokens")


def bearer_authenticator(req):
    """None when the request does not carry a Bearer token; else the token's Access or a 401."""
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    doc = tokens.verify(services.admin_db(), header[7:].strip())
    if doc is None:
        resp = make_response(problem(401, "The API token is unknown or revoked; ask a Manager for a new one."))
        resp.headers["WWW-Authenticate"] = 'Bearer realm="Order Desk", error="invalid_token"'
        return resp
    access = tokens.access_of(doc)
    mirrored = current_app.extensions["mirrored_tokens"]
    if doc["_id"] not in mirrored:   # once per process: SECRET_KEY may have changed since issue
        from oms.identity import people
        people.mirror(services.couch(), current_app.config["SECRET_KEY"], access, kind="token",
                      namespace=services.settings().namespace)
        mirrored.add(doc["_id"])
    return access


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    access = require_manager("manage API tokens")
    db = services.person_db(access)
    issued, error, status = None, None, 200
    if request.method == "POST":
        try:
            token, doc = tokens.issue(db, services.couch(), current_app.config["SECRET_KEY"], access,
                                      request.form.get("client", ""), request.form.get("level", ""),
                                      request.form.getlist("roles"), request.form.get("note", ""),
                                      namespace=services.settings().namespace)
            issued = {"token": token, "doc": doc}
            status = 201
        except InvalidInput as exc:
            error, status = exc.reason, 400
    resp = make_response(render_template(
        "tokens.html", tokens=tokens.list_tokens(db), issued=issued, error=error,
        levels=rules.acl()["levels"][1:], level_titles=rules.acl()["level_titles"], roles=rules.acl()["roles"],
        values=request.form, views=catalog.visible_to(access)), status)
    resp.headers["Cache-Control"] = "no-store"   # the token is shown once: never cache the page
    return resp


@bp.post("/<token_id>/revoke")
@login_required
def revoke(token_id):
    access = require_manager("manage API tokens")
    tokens.revoke(services.person_db(access), services.couch(), current_app.config["SECRET_KEY"], token_id, access,
                  namespace=services.settings().namespace)
    return redirect(url_for("tokens.index"), 303)
