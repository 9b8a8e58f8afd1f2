"""JSON API /api/v1 (HTTP Basic with staff directory credentials)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from oms.errors import InvalidInput

from . import services
from .auth import api_auth_required

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _json_body() -> dict:
    if not request.is_json:
        raise InvalidInput("send the order as JSON with Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidInput("the body is not valid JSON")
    if not isinstance(data, dict):
        raise InvalidInput("the order must be a JSON object")
    return data


@bp.post("/orders")
@api_auth_required
def create_order():
    svc = services.order_service()
    doc = svc.create(_json_body())
    # Each line's answer at placement (available / partial / backorder), not stored on the order.
    resp = jsonify({**doc, "availability": getattr(svc, "availability", None)})
    resp.status_code = 201
    resp.headers["Location"] = url_for("api.get_order", number=doc["number"])
    return resp


@bp.get("/orders/<number>")
@api_auth_required
def get_order(number):
    return jsonify(services.order_service().get(number))


@bp.post("/orders/<number>/actions")
@api_auth_required
def order_action(number):
    """Take a workflow action: {"action": "approve", "reason"?, "rev"?}; "amend" also takes
    "lines". 200 with the new revision; 400/403/409 with the reason."""
    body = _json_body()
    action = body.get("action")
    if not isinstance(action, str) or not action:
        raise InvalidInput('send {"action": "<name>"}, e.g. {"action": "submit"}')
    svc = services.order_service()
    if action == "amend":
        doc = svc.amend(number, body.get("lines"), body.get("reason"), rev=body.get("rev"))
    else:
        doc = svc.act(number, action, reason=body.get("reason"), rev=body.get("rev"))
    return jsonify(doc)


@bp.get("/orders/<number>/comments")
@api_auth_required
def list_comments(number):
    return jsonify({"comments": services.order_service().comments(number)})


@bp.post("/orders/<number>/comments")
@api_auth_required
def add_comment(number):
    doc = services.order_service().comment(number, _json_body().get("text"))
    return jsonify(doc), 201
