"""A session stops working when it should, in every worker: after sign-out (the signed cookie
replayed is refused), after a working day, and when the directory no longer lets the person in
(asked again every few minutes). Against the real slapd and CouchDB."""
from __future__ import annotations

import uuid

import ldap
import pytest

from oms.devstack.ldap_demo import DEMO_PASSWORD, ssha
from tests.conftest import WebClient
from oms.core import memories
from webapp import sessions


def replay(app, cookie: str) -> WebClient:
    other = WebClient(app)
    other.c.set_cookie("session", cookie)
    return other


def cookie_of(web: WebClient) -> str:
    return web.c.get_cookie("session").value


def test_a_signed_out_cookie_replayed_opens_nothing(app):
    web = WebClient(app)
    web.login("sally")
    kept = cookie_of(web)
    assert replay(app, kept).get("/views/all_orders").status_code == 200
    assert web.post("/logout", {}, csrf_from="/views/all_orders").status_code == 303
    for path in ("/views/all_orders", "/admin/tokens", "/dashboard"):
        r = replay(app, kept).get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"], path
    assert replay(app, kept).get("/views/all_orders", headers={"HX-Request": "true"}).status_code == 401


def test_a_sign_out_reaches_another_worker_within_its_memory(app, settings):
    web = WebClient(app)
    web.login("carl")
    kept = cookie_of(web)
    assert replay(app, kept).get("/views/all_orders").status_code == 200   # this worker remembers "none"
    with web.c.session_transaction() as s:
        user = dict(s["user"])
    from oms.identity import people
    people.sign_out(app.extensions["couch"], user["name"], user["sid"], user["issued"] + sessions.LIFETIME_SECONDS,
                    settings.namespace)
    # (another worker's sign-out: this one still remembers the old list for up to a minute)
    memories.signed_out.discard(settings.namespace.user(user["name"]))      # ... that minute passed
    assert replay(app, kept).get("/views/all_orders").status_code == 302


def test_a_session_older_than_a_working_day_has_expired(app):
    web = WebClient(app)
    web.login("wanda")
    with web.c.session_transaction() as s:
        s["user"] = dict(s["user"], issued=s["user"]["issued"] - sessions.LIFETIME_SECONDS - 1)
    assert web.get("/views/all_orders").status_code == 302


@pytest.fixture
def newcomer(stack):
    """A person of the directory's own, in the sales group, removed again at the end."""
    slapd = stack.slapd
    if slapd is None:
        pytest.skip("needs the demo directory, whose admin may add people")
    uid = f"tina{uuid.uuid4().hex[:6]}"
    dn, group = f"uid={uid},{slapd.people_base}", f"cn=sales,{slapd.groups_base}"
    conn = ldap.initialize(slapd.url)
    conn.simple_bind_s(slapd.bind_dn, slapd.bind_password)
    conn.add_s(dn, [("objectClass", [b"inetOrgPerson"]), ("uid", [uid.encode()]), ("cn", [b"Tina Temp"]),
                    ("sn", [b"Temp"]), ("userPassword", [ssha(DEMO_PASSWORD).encode()])])
    conn.modify_s(group, [(ldap.MOD_ADD, "member", [dn.encode()])])
    yield uid, lambda: conn.modify_s(group, [(ldap.MOD_DELETE, "member", [dn.encode()])])
    conn.delete_s(dn)
    conn.unbind_s()


def test_a_person_removed_from_their_groups_is_out_within_minutes(app, newcomer):
    uid, remove_from_sales = newcomer
    web = WebClient(app)
    assert web.login(uid).status_code == 303
    assert web.get("/views/all_orders").status_code == 200
    remove_from_sales()
    assert web.get("/views/all_orders").status_code == 200        # until the directory is asked again
    with web.c.session_transaction() as s:
        s["user"] = dict(s["user"], checked=s["user"]["checked"] - sessions.RECHECK_SECONDS - 1)
    assert web.get("/views/all_orders").status_code == 302
