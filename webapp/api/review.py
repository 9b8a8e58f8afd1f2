"""JSON API for the performance Review, on the /api/v1 blueprint of webapp.api.v1: the same
figures as the /review page and its CSV (webapp/review.py), for the authenticated person."""
from __future__ import annotations

from flask import jsonify

from webapp import services
from webapp.auth import api_auth_required
from webapp.review import figures_for_request

from .v1 import bp


@bp.get("/review")
@api_auth_required
def get_review():
    """?grain=w|m&from=&to=&function=&tier=&warehouse=: cycle times (median, p90), on-time share,
    fill rate, throughput, work in progress, SLA classes and backorder ageing."""
    return jsonify(figures_for_request(services.current_access()).as_json())
