"""My queue: the orders waiting for one of my roles (the states whose owner_role it is, in
rules/workflow.json), most urgent first, then oldest. Read from the view queue_by_state by key
ranges "<state>|<principal>" (so Readers fields hold here as everywhere), merged and paged by key
by the same reader as every other view."""
from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, make_response, render_template, request

from oms import rules
from views import catalog
from views.catalog import ViewDef
from views.reader import decode_cursor, encode_cursor, read_page

from . import services
from .auth import login_required

bp = Blueprint("queue", __name__, url_prefix="/queue")

QUEUE = ViewDef(
    name="my_queue", title="My queue", group="Orders", design="oms", view="queue_by_state",
    key=("priority", "created_at", "number"),
    columns=({"title": "Number", "field": "number", "link": True},
             {"title": "Customer", "field": "customer"},
             {"title": "Status", "field": "status", "format": "status"},
             {"title": "Priority", "field": "priority", "align": "right"},
             {"title": "Value", "field": "net_cents", "format": "money", "align": "right"},
             {"title": "Promised", "field": "promised_date"},
             {"title": "Created", "field": "created_at", "format": "datetime"}),
    min_level="reader", page_size=50)


def states_owned_by(role: str) -> list[str]:
    return [name for name, s in rules.workflow()["states"].items() if s.get("owner_role") == role]


def roles_with_queues(access) -> list[str]:
    owners = {s.get("owner_role") for s in rules.workflow()["states"].values()}
    mine = [r for r in access.roles if r in owners]
    if access.at_least("manager") and "[Manager]" not in mine and "[Manager]" in owners:
        mine.append("[Manager]")
    return mine


def read_queue(db, access, role: str, after=None, before=None, limit=None):
    principals = [f"{state}|{p}" for state in states_owned_by(role) for p in access.principals]
    return read_page(db, QUEUE, SimpleNamespace(principals=principals), after=after, before=before, limit=limit)


@bp.get("")
@login_required
def index():
    access = services.current_access()
    roles = roles_with_queues(access)
    role = request.args.get("role") or (roles[0] if roles else None)
    page = None
    if role in roles:
        page = read_queue(services.person_db(access), access, role,
                          after=decode_cursor(request.args.get("after")),
                          before=decode_cursor(request.args.get("before")))
    ctx = dict(vd=QUEUE, page=page, roles=roles, role=role, states=states_owned_by(role) if role else [],
               next_cursor=encode_cursor(page.next_after) if page else None,
               prev_cursor=encode_cursor(page.prev_before) if page else None,
               views=catalog.visible_to(access))
    template = "_queue_pane.html" if request.headers.get("HX-Request") else "queue.html"
    resp = make_response(render_template(template, **ctx))
    resp.headers["Vary"] = "HX-Request"
    return resp

