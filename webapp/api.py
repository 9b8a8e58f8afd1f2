"""JSON API /api/v1 (HTTP Basic with staff directory credentials)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from oms import order_api
from oms.errors import InvalidInput

from . import services
from .api_support import idempotency_key, request_fingerprint, respond
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
    data = _json_body()
    # Idempotency-Key: a retried create returns the first result (oms/idempotency.py).
    outcome = order_api.create_order(svc, data, idempotency_key(), request_fingerprint(data),
                                     lambda number: url_for("api.get_order", number=number))
    return respond(outcome)


@bp.get("/orders/<number>")
@api_auth_required
def get_order(number):
    return jsonify(services.order_service().get(number))
