"""The external systems, set up once per process (init_app), and the acting person's clients
per request (on `g`): the order, CRM and WMS services written as the person, with the system
identity (oms.identity.people.as_system: an ordinary ACL entry, never the CouchDB admin) for the
automatic hand-offs, resolved and mirrored once a minute per process, not per request."""
from __future__ import annotations

import hashlib
import threading
import time

from flask import abort, current_app, g, session

from oms.core import memories
from oms.core.errors import InvalidInput
from oms.core.ttl_cache import TTLCache
from oms.crm.customers import CustomerService
from oms.fulfilment.handoffs import SystemIdentity
from oms.fulfilment.service import FulfilmentService
from oms.identity import acl, people
from oms.identity.acl import Access
from oms.identity.directory import AuthError, Directory, Person
from oms.interchange.pipeline import ImportContext
from oms.ordering.orders import OrderService
from oms.store.couch import CouchServer
from oms.store.numbers import NumberAllocator
from oms.wms.stock import StockService
from views import catalog

from . import sessions
from .throttle import Throttle


def init_app(app) -> None:
    s = app.config["OMS_SETTINGS"]
    ext = app.extensions
    ext["couch"] = CouchServer(s.couchdb_url, s.couchdb_user, s.couchdb_password)
    ext["directory"] = Directory(s.ldap_url, s.ldap_base_dn, s.ldap_bind_dn, s.ldap_bind_password)
    ext["numbers"] = NumberAllocator()
    ext["api_auth_cache"] = _CredentialCache(60)
    ext["throttle"] = Throttle(**app.config.get("OMS_THROTTLE", {}))


def couch() -> CouchServer:
    return current_app.extensions["couch"]


def settings():
    return current_app.config["OMS_SETTINGS"]


def directory() -> Directory:
    return current_app.extensions["directory"]


def admin_db():
    """Admin credentials: only for syncing people and reading the ACL before login (docs/architecture.md)."""
    return couch().admin(settings().db_name)


def resolve_access(person: Person) -> Access:
    return acl.resolve(acl_doc().get("entries", []), person.name, person.groups)


def sign_in(person: Person) -> Access:
    """Resolve the person's ACL level and roles and mirror them into CouchDB _users."""
    access = resolve_access(person)
    if access.level_index > 0:
        people.mirror(couch(), current_app.config["SECRET_KEY"], access, namespace=settings().namespace)
    return access


def acl_doc(max_age: float = 5.0) -> dict:
    """The ACL document, re-read at most every few seconds per process (admin read: it is how
    people are synced, docs/architecture.md). Per database: two apps in one process (the tests'
    own databases) must not read each other's ACL."""
    return memories.acl_document(settings().db_name, max_age, lambda: admin_db().get("acl"))


def forget_acl() -> None:
    memories.forget_acl_documents()


def start_session(person: Person, access: Access) -> None:
    session.clear()
    session["user"] = sessions.begin({"name": access.name, "display": person.display_name,
                                      "groups": list(person.groups), "level": access.level,
                                      "roles": list(access.roles), "acl_rev": acl_doc()["_rev"]})


def end_session() -> None:
    """Sign out: this session's cookie stops working in every worker (webapp/sessions.py)."""
    user = session.get("user")
    session.clear()
    if user:
        sessions.end(couch(), user, settings().namespace)


def current_access() -> Access | None:
    """The signed-in person's ACL access, while the session works (webapp/sessions.py). When a
    Manager changed the ACL since sign-in, or the directory was asked again for the person's
    groups, it is resolved again and mirrored to CouchDB; No Access ends the session."""
    if "access" in g:
        return g.access
    user = session.get("user")
    if not user:
        return None
    if sessions.ended(couch(), user, settings().namespace):
        session.clear()
        return None
    regroup = sessions.due_for_check(user) and "groups" in user
    if regroup:
        try:
            person = directory().lookup(user["name"])
        except AuthError:
            person, regroup = None, False   # the directory away: keep what it said last
        if regroup:
            if person is None:
                session.clear()
                return None
            user.update(groups=list(person.groups), checked=time.time())
    if "groups" in user and (regroup or user.get("acl_rev") != acl_doc()["_rev"]):
        doc = acl_doc()
        access = acl.resolve(doc.get("entries", []), user["name"], user["groups"])
        if access.level_index == 0:
            session.clear()
            return None
        people.mirror(couch(), current_app.config["SECRET_KEY"], access, namespace=settings().namespace)
        user.update(level=access.level, roles=list(access.roles), acl_rev=doc["_rev"])
        session["user"] = user
    g.access = Access(user["name"], user["level"], tuple(user["roles"]))
    return g.access


def person_db(access: Access | None = None):
    access = access or current_access()
    return people.open_as(couch(), current_app.config["SECRET_KEY"], settings().db_name, access.name,
                          settings().namespace)


def order_service(access: Access | None = None) -> OrderService:
    """Orders with their CRM/WMS hand-offs (oms/fulfilment/handoffs.py)."""
    return fulfilment(access or current_access())


class _CredentialCache(TTLCache):
    """Remembers verified API credentials briefly, so a client's burst costs one LDAP bind.
    Keys are hashes of name+password: no password is kept."""

    @staticmethod
    def key(name: str, password: str) -> str:
        return hashlib.sha256(f"{name}\0{password}".encode()).hexdigest()


def current_app_ext(name: str):
    return current_app.extensions[name]


_agent_lock = threading.Lock()
AGENT_TTL = 60.0


def agent() -> SystemIdentity:
    app = current_app._get_current_object()
    ext = app.extensions
    with _agent_lock:
        cached = ext.get("oms_agent")
        if cached and cached[0] > time.monotonic():
            return cached[1]
    s = settings()
    entries = admin_db().get("acl").get("entries", [])  # the ACL document, as at sign-in
    access, db = people.as_system(couch(), app.config["SECRET_KEY"], s.db_name, entries, s.namespace)
    made = SystemIdentity(access, db, ext["numbers"])
    with _agent_lock:
        ext["oms_agent"] = (time.monotonic() + AGENT_TTL, made)
    return made


def central_catalog(skus):
    """The centre's catalog for these SKUs (products and price lists), read as the system
    identity: what partners' orders are priced from (their databases hold no catalog)."""
    from oms.catalog import products
    return products.book(agent().db, skus)


def fulfilment(access: Access | None = None) -> FulfilmentService:
    access = access or current_access()
    return FulfilmentService(person_db(access), access, current_app.extensions["numbers"], agent)


def stock(access: Access | None = None) -> StockService:
    access = access or current_access()
    return StockService(person_db(access), access)


def customers(access: Access | None = None) -> CustomerService:
    access = access or current_access()
    return CustomerService(person_db(access), access)


def products(access: Access | None = None):
    from oms.catalog.products import ProductService
    access = access or current_access()
    return ProductService(person_db(access), access)


def price_lists(access: Access | None = None):
    from oms.catalog.products import PriceListService
    access = access or current_access()
    return PriceListService(person_db(access), access)


def import_context(access, progress=None) -> ImportContext:
    return ImportContext(db=person_db(access), access=access, numbers=current_app.extensions["numbers"],
                         progress=progress, directory=directory())


def open_view(name: str, hint: str = ""):
    """(Access, ViewDef) of the view `name` for the person signed in: 404 when there is no such
    view (`hint` says where the list is), 403 with the reason when the person may not open it."""
    access = current_access()
    vd = catalog.get(name)
    if vd is None:
        abort(404, f"There is no view called {name!r}.{hint}")
    refusal = vd.refusal(access)
    if refusal:
        abort(403, refusal)
    return access, vd


def uploaded_feed(key: str, what: str) -> list[dict]:
    """The rows of the feed file a page's form uploaded (field "feed"), CSV or JSON by its name."""
    from flask import request

    from oms.interchange import feeds
    upload = request.files.get("feed")
    if upload is None or not upload.filename:
        raise InvalidInput(f"choose a {what} file (CSV or JSON) to upload")
    kind = "application/json" if upload.filename.lower().endswith(".json") else "text/csv"
    return feeds.parse(upload.read(), kind, key=key)
