"""More of /api/v1 on the same blueprint as webapp/api/v1.py: orders listed by a catalog view,
workflow actions, comments, views, export, import, events; and /api/openapi.json.
Thin handlers: the work is in oms/ordering/order_api.py, oms/interchange/importing.py, oms/interchange/exporting.py."""
from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request, stream_with_context, url_for

from oms.agents import outbox
from oms.core.errors import InvalidInput
from oms.interchange import exporting, formats, importing, pipeline
from oms.ordering import order_api
from views import catalog
from views.reader import decode_cursor, encode_cursor, read_page
from webapp import services
from webapp.auth import api_auth_required
from webapp.errors import problem

from . import openapi
from .support import idempotency_key, json_body, limit_arg, request_fingerprint, respond
from .v1 import bp

docs_bp = Blueprint("api_docs", __name__)


@docs_bp.get("/api/openapi.json")
def openapi_json():
    return jsonify(openapi.document())


def _cursor(name: str = "after"):
    raw = request.args.get(name)
    if raw is None:
        return None
    key = decode_cursor(raw)
    if key is None:
        raise InvalidInput(f"{name} must be the cursor a previous page returned as next")
    return key


@bp.get("/orders")
@api_auth_required
def list_orders():
    access, vd = services.open_view(request.args.get("view", "all_orders"), " GET /api/v1/views lists them.")
    page = read_page(services.person_db(access), vd, access, after=_cursor(), limit=limit_arg(vd.page_size))
    return jsonify({"view": vd.name, "rows": [{"id": r["id"], **(r.get("value") or {})} for r in page.rows],
                    "next": encode_cursor(page.next_after), "prev": encode_cursor(page.prev_before)})


@bp.post("/orders/<number>/actions")
@api_auth_required
def act_on_order(number):
    return jsonify(order_api.act(services.order_service(), number, json_body("the action")))


@bp.get("/orders/<number>/comments")
@api_auth_required
def list_comments(number):
    docs, nxt = order_api.list_comments(services.order_service(), number, _cursor(), limit_arg(50))
    return jsonify({"comments": docs, "next": encode_cursor(nxt)})


@bp.post("/orders/<number>/comments")
@api_auth_required
def post_comment(number):
    body = json_body("the comment")
    return respond(order_api.post_comment(
        services.order_service(), number, body, idempotency_key(), request_fingerprint(body),
        lambda n: url_for("api.list_comments", number=n)))


@bp.get("/views")
@api_auth_required
def list_views():
    return jsonify({"views": [{"name": v.name, "title": v.title, "group": v.group, "columns": list(v.columns)}
                              for v in catalog.visible_to(services.current_access())]})


@bp.get("/views/<name>/export")
@api_auth_required
def export_view(name):
    access, vd = services.open_view(name, " GET /api/v1/views lists them.")
    fmt = request.args.get("format", "csv")
    shape = request.args.get("shape", "rows")
    numbers = [n.strip() for n in request.args.get("numbers", "").split(",") if n.strip()] or None
    stream = exporting.export(services.person_db(access), access, vd, fmt, shape, numbers)
    return Response(stream_with_context(stream.chunks), mimetype=stream.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{stream.filename}"'})


@bp.post("/imports")
@api_auth_required
def import_file():
    access = services.current_access()
    data = request.get_data(cache=False)
    kind = request.args.get("kind")
    try:
        fmt = formats.format_from_mimetype(request.mimetype)
    except InvalidInput as exc:
        return problem(415, exc.reason)
    ctx = services.import_context(access)
    key = idempotency_key()
    if key:
        report = importing.import_once(ctx, data, fmt, kind, key, request_fingerprint(
            {"sha256": pipeline.sha256(data), "kind": kind, "format": fmt}))
    else:
        report = importing.import_bytes(ctx, data, fmt, kind, filename="api upload")
    return jsonify(report.as_dict())


@bp.get("/events")
@api_auth_required
def list_events():
    access = services.current_access()
    events, nxt = outbox.events_page(services.person_db(access), access, _cursor(), limit_arg(100))
    return jsonify({"events": events, "next": encode_cursor(nxt)})
