"""The CRM/WMS services for the current request: the person's own (written as them) and the
system identity's for automatic hand-offs (oms.people.as_system: an ordinary ACL entry, never the
CouchDB admin). The system identity is resolved and mirrored once a minute per process, not per
request."""
from __future__ import annotations

import threading
import time

from flask import current_app

from oms import people
from oms.acl import Access
from oms.customers import CustomerService
from oms.fulfilment import FulfilmentService, SystemAgent
from oms.stock import StockService

from . import services

_lock = threading.Lock()
AGENT_TTL = 60.0


def agent() -> SystemAgent:
    app = current_app._get_current_object()
    ext = app.extensions
    with _lock:
        cached = ext.get("oms_agent")
        if cached and cached[0] > time.monotonic():
            return cached[1]
    s = services.settings()
    entries = services.admin_db().get("acl").get("entries", [])  # the ACL document, as at sign-in
    access, db = people.as_system(services.couch(), app.config["SECRET_KEY"], s.db_name, entries)
    made = SystemAgent(access, db, ext["numbers"])
    with _lock:
        ext["oms_agent"] = (time.monotonic() + AGENT_TTL, made)
    return made


def fulfilment(access: Access | None = None) -> FulfilmentService:
    access = access or services.current_access()
    return FulfilmentService(services.person_db(access), access, current_app.extensions["numbers"], agent)


def stock(access: Access | None = None) -> StockService:
    access = access or services.current_access()
    return StockService(services.person_db(access), access)


def customers(access: Access | None = None) -> CustomerService:
    access = access or services.current_access()
    return CustomerService(services.person_db(access), access)
