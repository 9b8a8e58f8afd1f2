"""Shared fixtures. Integration tests run against real servers: the suite starts its own PouchDB
Server and slapd on free loopback ports, or uses COUCHDB_URL (with admin credentials) and
LDAP_URL when they are set, so the same tests can be pointed at Apache CouchDB 3."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from oms.core.config import Settings
from oms.identity import acl, people
from oms.ordering.orders import OrderService
from oms.store.numbers import NumberAllocator

TESTS = Path(__file__).resolve().parent
# Load, fuzz, fault and scale tests: minutes of the full suite, left out of `make test-fast`.
SLOW = {"unit/test_properties.py", "integration/test_load.py", "integration/test_api_fuzz.py",
        "integration/replication/test_partner_api_fuzz.py", "integration/test_faults.py",
        "integration/test_view_paging_scale.py"}


def pytest_collection_modifyitems(config, items):
    """Markers by folder (unit, integration, e2e), and slow on the files in SLOW."""
    for item in items:
        where = Path(str(item.fspath)).resolve().relative_to(TESTS)
        if where.parts[0] in ("unit", "integration", "e2e"):
            item.add_marker(where.parts[0])
        if where.as_posix() in SLOW:
            item.add_marker("slow")


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    from tests.stacks import start_stack
    st = start_stack(tmp_path_factory.mktemp("oms-data"), "orders_test")
    yield st
    if Settings.from_env().couchdb_url:  # a shared server (COUCHDB_URL): leave nothing of the run behind
        leave_nothing_behind(st.server(), st.settings)
    st.close()


def leave_nothing_behind(server, settings) -> None:
    """Delete the run's databases, its replications and its people from a shared server."""
    from urllib.parse import quote
    ns = settings.namespace
    assert ns.desk, "a run on a shared server has a desk of its own (tests/stacks.py)"
    for name in server.request("GET", "/_all_dbs"):
        if name.startswith(settings.db_name) or name.startswith(ns.database("")):
            server.request("DELETE", f"/{name}")
    for db, start in (("_replicator", ns.scoped("")), ("_users", ns.user_id(""))):
        rows = server.request("GET", f"/{db}/_all_docs",
                              params={"startkey": f'"{start}"', "endkey": f'"{start}\ufff0"'})["rows"]
        for row in rows:
            server.request("DELETE", f"/{db}/{quote(row['id'], safe='')}", params={"rev": row["value"]["rev"]})


@pytest.fixture(scope="session")
def settings(stack) -> Settings:
    return stack.settings


@pytest.fixture(scope="session")
def server(stack):
    return stack.server()


@pytest.fixture(scope="session")
def admin_db(server, settings):
    return server.admin(settings.db_name)


@pytest.fixture(scope="session")
def seeded(server, settings):
    from oms.devstack.seed import seed
    seed(server, settings, orders=12, progress=lambda *_: None)
    return True


@pytest.fixture(scope="session")
def acl_entries(admin_db):
    return admin_db.get("acl")["entries"]


@pytest.fixture(scope="session")
def person(server, settings, acl_entries):
    """person(name, groups) -> (Access, Database as that person), mirrored into _users."""
    from oms.devstack.ldap_demo import DEMO_PEOPLE
    demo_groups = {p["uid"]: p["groups"] for p in DEMO_PEOPLE}

    def make(name: str, groups=None, level: str | None = None, roles=()):
        if level:
            access = acl.Access(name, level, tuple(roles))
        else:
            access = acl.resolve(acl_entries, name, groups if groups is not None else demo_groups[name])
        people.mirror(server, settings.secret_key, access, namespace=settings.namespace)
        db = people.open_as(server, settings.secret_key, settings.db_name, name, settings.namespace)
        return access, db
    return make


@pytest.fixture(scope="session")
def service(person, seeded):
    numbers = NumberAllocator()

    def make(name: str, **kw) -> OrderService:
        access, db = person(name, **kw)
        return OrderService(db, access, numbers)
    return make


@pytest.fixture(scope="session")
def app(stack, seeded):
    from webapp import create_app

    # Throttling is tested on its own app (test_security.py); here many tests fail sign-ins on purpose.
    return create_app({"TESTING": True, "OMS_THROTTLE": {"max_failures": 10_000}}, settings=stack.settings)


class WebClient:
    """A Flask test client that signs in through the real login form (CSRF token included)."""

    def __init__(self, app):
        self.c = app.test_client()

    def csrf(self, path: str = "/login") -> str:
        html = self.c.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def login(self, name: str, password: str = "demo"):
        return self.c.post("/login", data={"username": name, "password": password, "csrf_token": self.csrf()})

    def post(self, path, data, csrf_from=None):
        data = dict(data)
        data.setdefault("csrf_token", self.csrf(csrf_from or path))
        return self.c.post(path, data=data)

    def __getattr__(self, name):
        return getattr(self.c, name)


@pytest.fixture
def web(app):
    return WebClient(app)
