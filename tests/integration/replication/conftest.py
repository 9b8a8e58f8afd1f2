"""Replication tests run their own real servers on loopback ports: a central PouchDB Server (with
its slapd, through oms.devstack.runtime like `oms serve`), partner databases on it, and a branch office's
PouchDB Server. Nothing is mocked. Continuous replication is asynchronous: tests wait for an
outcome with a deadline (`eventually`), never with a fixed sleep."""
from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest

from oms.core.config import Settings
from oms.identity import acl, people
from oms.ordering.orders import OrderService
from oms.store.numbers import NumberAllocator

DEADLINE = 20.0


def eventually(check, timeout: float = DEADLINE, every: float = 0.05, what: str = ""):
    """Poll `check()` until it returns something truthy; fail with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as exc:  # the document may not be there yet
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    pytest.fail(f"not within {timeout}s: {what or check} (last: {last!r})")


@pytest.fixture(scope="package")
def rstack(tmp_path_factory):
    from tests.stacks import start_stack
    st = start_stack(tmp_path_factory.mktemp("repl-central"), "orders_repl")
    yield st
    if Settings.from_env().couchdb_url:  # a shared server: leave nothing of the run behind
        from tests.conftest import leave_nothing_behind
        leave_nothing_behind(st.server(), st.settings)
    st.close()


@pytest.fixture(scope="package")
def rsettings(rstack) -> Settings:
    return rstack.settings


@pytest.fixture(scope="package")
def rserver(rstack):
    return rstack.server()


@pytest.fixture(scope="package")
def central_admin(rserver, rsettings):
    return rserver.admin(rsettings.db_name)


@pytest.fixture(scope="package")
def demo_partners(rserver, rsettings):
    """acme (alice@acme) and globex (gus@globex), password demo, as `oms serve --demo` makes them,
    plus a few staff orders."""
    from oms.devstack.partner_demo import seed_partners
    from oms.devstack.seed import seed
    seed(rserver, rsettings, orders=4, progress=lambda *_: None)
    return seed_partners(rserver, rsettings, progress=lambda *_: None)


@pytest.fixture(scope="package")
def staff(rserver, rsettings, central_admin, demo_partners):
    """staff(name) -> OrderService as that demo person on the central database."""
    from oms.devstack.ldap_demo import DEMO_PEOPLE
    groups = {p["uid"]: p["groups"] for p in DEMO_PEOPLE}
    entries = central_admin.get("acl")["entries"]
    numbers: dict[str, NumberAllocator] = {}   # one per server, as each site runs its own app

    def make(name: str, server=None, db_name=None) -> OrderService:
        server = server or rserver
        access = acl.resolve(entries, name, groups[name])
        people.mirror(server, rsettings.secret_key, access, namespace=rsettings.namespace)
        db = people.open_as(server, rsettings.secret_key, db_name or rsettings.db_name, name, rsettings.namespace)
        return OrderService(db, access, numbers.setdefault(server.url, NumberAllocator()))
    return make


@pytest.fixture(scope="package")
def partners(rserver, rsettings, demo_partners):
    from replication.partners import Partners
    return Partners(rserver, rsettings, progress=lambda *_: None)


@pytest.fixture(scope="package")
def partner_service(rserver, rsettings, demo_partners, central_admin):
    """partner_service(name) -> PartnerService as that partner person, in their own database,
    pricing from the centre's catalog as the app does."""
    from oms.catalog import products
    from replication.partners import PartnerPerson, PartnerService, database_name, partner_numbers
    levels = {"alice@acme": "author", "gus@globex": "author"}
    cache = {}

    def make(name: str, password: str = "demo"):
        if name not in cache:
            pid = name.split("@")[1]
            ns = rsettings.namespace
            db = rserver.as_person(database_name(pid, ns), ns.user(name), password)
            cache[name] = PartnerService(db, PartnerPerson(name, pid, levels[name]), partner_numbers(pid),
                                         lambda skus: products.book(central_admin, skus))
        return cache[name]
    return make


@pytest.fixture(scope="package")
def agent(rserver, rsettings, demo_partners):
    from replication.watcher import Watcher
    return Watcher(rserver, rsettings)


@pytest.fixture(scope="package")
def rapp(rstack, demo_partners):
    from webapp import create_app

    # Throttling is tested on an app of its own (test_partner_web.py); here tests fail sign-ins on purpose.
    return create_app({"TESTING": True, "OMS_THROTTLE": {"max_failures": 10_000}}, settings=rstack.settings)


@pytest.fixture
def rweb(rapp):
    from tests.conftest import WebClient
    return WebClient(rapp)


def unique(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:8]


class Link:
    """A real TCP link between a branch and the centre that a test can cut and restore (a
    forwarder on a loopback port): the network going down, with both servers still running."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._listener = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> "Link":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener:
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
