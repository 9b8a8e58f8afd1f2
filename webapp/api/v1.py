"""JSON API /api/v1 (HTTP Basic with staff directory credentials)."""
from __future__ import annotations

from flask import Blueprint, jsonify, url_for

from oms.ordering import order_api
from webapp import services
from webapp.auth import api_auth_required

from .support import idempotency_key, json_body, request_fingerprint, respond

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.post("/orders")
@api_auth_required
def create_order():
    svc = services.order_service()
    data = json_body("the order")
    # Idempotency-Key: a retried create returns the first result (oms/store/idempotency.py).
    outcome = order_api.create_order(svc, data, idempotency_key(), request_fingerprint(data),
                                     lambda number: url_for("api.get_order", number=number))
    return respond(outcome)


@bp.get("/orders/<number>")
@api_auth_required
def get_order(number):
    return jsonify(services.order_service().get(number))
