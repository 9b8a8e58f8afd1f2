"""Partner pages (/partner) and the partner API (/api/v1/partner). A partner's people sign in
with their CouchDB account (not LDAP), see only their own database (partner_<id>), place orders,
follow their status, comment, accept shipments, and see the changes the centre refused. Every
read and write goes to CouchDB as the person (session cookie on pages, HTTP Basic on the API);
the staff pages and the central database stay out of reach (no `user` in their session, no
membership of the central database). Thin handlers: the work is in replication/partners.py."""
from __future__ import annotations

import functools
import time

from flask import Blueprint, current_app, g, make_response, redirect, render_template, request, session, url_for

from oms.billing.returns import returnable
from oms.core.errors import InvalidInput
from oms.fulfilment.service import FulfilmentService
from oms.ordering import workflow
from oms.store.couch import Conflict, Forbidden, Unauthorized
from oms.store.idempotency import Outcome
from oms.store.numbers import NumberAllocator
from replication import partner_session
from replication.partners import PartnerService, partner_numbers

from . import services, sessions
from .api.support import idempotent, json_body, request_fingerprint, respond
from .auth import sign_in_outcome, sign_in_wait, too_many, wait_sentence
from .errors import problem
from .forms import line_rows
from .orders import form_to_input

bp = Blueprint("partners", __name__, url_prefix="/partner")
api = Blueprint("partner_api", __name__, url_prefix="/api/v1/partner")

REFRESH_SECONDS = 60


def init_app(app) -> None:
    from .security import csrf
    app.extensions["partner_numbers"] = {}
    app.register_blueprint(bp)
    app.register_blueprint(api)
    csrf.exempt(api)  # the API takes HTTP Basic only, never the session cookie


def _numbers(partner_id: str) -> NumberAllocator:
    pool = current_app.extensions["partner_numbers"]
    if partner_id not in pool:
        pool[partner_id] = partner_numbers(partner_id)
    return pool[partner_id]


def service() -> PartnerService:
    return g.partner_service


# -- signing in ----------------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    error, name = None, ""
    if request.method == "POST":
        name = request.form.get("username", "").strip()
        wait = sign_in_wait(name)
        if wait:
            return too_many(wait, render_template("partner_login.html", error=wait_sentence(wait), username=name))
        try:
            person, cookie = partner_session.sign_in(services.couch(), name, request.form.get("password", ""),
                                                     services.settings().namespace)
        except Unauthorized as exc:
            sign_in_outcome(name, False)
            error = exc.reason
        else:
            sign_in_outcome(name, True)
            session.clear()
            session["partner"] = sessions.begin({"name": person.name, "partner": person.partner,
                                                 "level": person.level, "cookie": cookie})
            return redirect(url_for("partners.home"), 303)
        return render_template("partner_login.html", error=error, username=name), 401
    return render_template("partner_login.html", error=None, username="")


@bp.post("/logout")
def logout():
    me = session.get("partner")
    session.clear()
    if me:
        sessions.end(services.couch(), me, services.settings().namespace)
    return redirect(url_for("partners.login"), 303)


def partner_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        me = session.get("partner")
        server = services.couch()
        if not me or sessions.ended(server, me, services.settings().namespace):
            session.clear()
            return redirect(url_for("partners.login"))
        if time.time() - me.get("checked", 0) > REFRESH_SECONDS:
            person, cookie = partner_session.whoami(server, me["cookie"], services.settings().namespace)
            if person is None or person.name != me["name"]:
                session.clear()
                return redirect(url_for("partners.login"))
            me.update(level=person.level, cookie=cookie, checked=time.time())
            session["partner"] = me
        from replication.partners import PartnerPerson
        person = PartnerPerson(me["name"], me["partner"], me["level"])
        db = partner_session.partner_db(server, person, me["cookie"], services.settings().namespace)
        g.partner_service = PartnerService(db, person, _numbers(person.partner), services.central_catalog)
        try:
            return view(*args, **kwargs)
        except Unauthorized:
            session.clear()
            return redirect(url_for("partners.login"))
    return wrapped


# -- pages -----------------------------------------------------------------------------------------------

def _seq() -> str:
    """Where the partner's database stands: a page polls with it and is redrawn when it moved (the
    centre moved an order on, a colleague placed one)."""
    return service().db.change_token()


def _unchanged(seq: str) -> bool:
    return bool(request.headers.get("HX-Request")) and service().db.still_at(request.args.get("since"), seq)


def _nothing_new():
    resp = make_response("", 204)
    resp.headers["Vary"] = "HX-Request"
    return resp


@bp.get("/")
@partner_required
def home():
    svc = service()
    seq = _seq()
    if _unchanged(seq):
        return _nothing_new()
    rows, next_after = svc.orders(after=request.args.get("after") or None)
    return render_template("partner_home.html", me=svc.person, rows=rows, next_after=next_after,
                           rejections=svc.rejections(), live_seq=seq)


@bp.route("/orders/new", methods=["GET", "POST"])
@partner_required
def new_order():
    svc = service()
    error, values = None, request.form
    if request.method == "POST":
        try:
            doc = svc.place(form_to_input(request.form))
            return redirect(url_for("partners.order", number=doc["number"]), 303)
        except (InvalidInput, Forbidden) as exc:
            error = exc.reason
    return render_template("partner_order_form.html", me=svc.person, error=error, values=values,
                           customers=svc.customers(), line_count=3), (400 if error else 200)


@bp.get("/orders/<number>")
@partner_required
def order(number):
    return _order_page(number)


def _order_page(number, error: str | None = None, code: int = 200):
    svc = service()
    seq = _seq()
    if _unchanged(seq):
        return _nothing_new()
    doc = svc.order(number)
    if request.headers.get("HX-Request") and request.args.get("rev"):
        # The page's poll: never redraw under someone typing; say what changed instead.
        return render_template("_partner_order_live.html", order=doc, seen_rev=request.args["rev"], live_seq=seq)
    may_return = (svc.person.may("request_return") and doc["status"] in workflow.transition("request_return")["from"]
                  and any(q > 0 for q in returnable(doc).values()))
    return render_template("partner_order.html", me=svc.person, order=doc, error=error, live_seq=seq,
                           responses=svc.responses(doc["_id"]),
                           editable=sorted(svc.person.may("edit_order") and _editable(doc) or []),
                           left=returnable(doc) if may_return else None), code


def _editable(doc) -> list[str]:
    from oms.core import rules
    return rules.rules()["replication"]["partners"]["editable"].get(doc["status"], [])


def _act(number, fn):
    try:
        fn()
    except (InvalidInput, Forbidden) as exc:
        return _order_page(number, exc.reason, 400 if isinstance(exc, InvalidInput) else 403)
    except Conflict as exc:
        return _order_page(number, exc.reason, 409)
    return redirect(url_for("partners.order", number=number), 303)


@bp.post("/orders/<number>/edit")
@partner_required
def edit(number):
    changes = {f: request.form.get(f, "").strip() for f in ("notes", "promised_date") if f in request.form}
    return _act(number, lambda: service().edit(number, changes, rev=request.form.get("rev")))


@bp.post("/orders/<number>/cancel")
@partner_required
def cancel(number):
    return _act(number, lambda: service().cancel(number, request.form.get("reason", ""), rev=request.form.get("rev")))


@bp.post("/orders/<number>/comments")
@partner_required
def comment(number):
    return _act(number, lambda: service().comment(number, request.form.get("text", "")))


@bp.post("/orders/<number>/shipments/<shipment>/accept")
@partner_required
def accept(number, shipment):
    return _act(number, lambda: service().accept(shipment, request.form.get("note", "")))


@bp.post("/orders/<number>/returns")
@partner_required
def request_return(number):
    """A return of the partner's delivered order: the partner names lines, quantities, why and what
    the customer wants; the centre records it on its order (as its system identity, naming who
    asked), and the return comes back to the partner's copy by replication."""
    svc = service()

    def ask():
        if not svc.person.may("request_return"):
            raise Forbidden(f"As {svc.person.level_title} you may not request returns.")
        mine = svc.order(number)   # the partner's own copy: proves the order is theirs
        lines = line_rows(request.form, mine["lines"], ("reason", "outcome"))
        agent = services.agent()
        centre = FulfilmentService(agent.db, agent.access, current_app.extensions["numbers"], lambda: agent)
        centre.returns().request(mine["number"], lines, None,
                                 f"requested by {svc.person.name} ({svc.person.partner})")
    return _act(number, ask)


# -- API -------------------------------------------------------------------------------------------------

def partner_api_auth(view):
    """HTTP Basic with the partner person's CouchDB account."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        auth = request.authorization
        person = None
        if auth and auth.type == "basic" and auth.username:
            wait = sign_in_wait(auth.username)
            if wait:
                return too_many(wait)
            cache = services.current_app_ext("api_auth_cache")   # a client's burst: one password check
            key = cache.key("partner\0" + auth.username, auth.password or "")
            person = cache.get(key)
            if person is None:
                person = partner_session.check_basic(services.couch(), auth.username, auth.password or "",
                                                           services.settings().namespace)
                sign_in_outcome(auth.username, person is not None)
                if person is not None:
                    cache.put(key, person)
        if person is None:
            resp = make_response(problem(401, "Send HTTP Basic credentials of a partner's account."))
            resp.headers["WWW-Authenticate"] = 'Basic realm="Order Desk partners", charset="UTF-8"'
            return resp
        from replication.partners import database_name
        ns = services.settings().namespace
        db = services.couch().as_person(database_name(person.partner, ns), ns.user(person.name), auth.password or "")
        g.partner_service = PartnerService(db, person, _numbers(person.partner), services.central_catalog)
        return view(*args, **kwargs)
    return wrapped


@api.get("/orders")
@partner_api_auth
def api_orders():
    from flask import jsonify
    rows, next_after = service().orders(after=request.args.get("after") or None)
    return jsonify({"orders": [r["value"] for r in rows], "next_after": next_after})


@api.get("/orders/<number>")
@partner_api_auth
def api_order(number):
    from flask import jsonify
    doc = service().order(number)
    doc.pop("_revisions", None)
    responses = service().responses(doc["_id"])
    return jsonify({**doc, "comments": responses["comment"], "shipments": responses["shipment"],
                    "refused_changes": responses["rejection"]})


@api.post("/orders")
@partner_api_auth
def api_place():
    data = json_body("the order")
    svc = service()

    def place() -> Outcome:
        doc = svc.place(data)
        return Outcome(201, doc, url_for("partner_api.api_order", number=doc["number"]))
    # The record carries the partner: the partner's copy takes no document without it (a create
    # with an Idempotency-Key would be refused with a 403).
    return respond(idempotent(svc.db, svc.person.name, svc.clock, request_fingerprint(data), place,
                              fields={"partner": svc.person.partner}))

