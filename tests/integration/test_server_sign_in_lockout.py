"""Repeated failed sign-ins lock a name out of an address, on either engine.

CouchDB 3.5 does it by default (`[chttpd_auth_lockout]` mode enforce, threshold 5, max_lifetime
300000 ms): five failed authentications of a user name from one peer address, keyed by that
address, the name and the account's password salt, and every further authentication of it from
that address is refused with 403 and the reason below, the right password included, until five
minutes after the first failure. Both ways in count and are refused alike: POST /_session (cookie
sign-in) and HTTP Basic on any request. A success does not reset the count, a cookie is not a
password (never counted), and a new password (a new salt) is a new key. The embedded server does
the same (patches/pouchdb-auth.patch, docs/embedded-server.md).

Each test signs in as CouchDB accounts of its own, made in `_users` by the admin with a unique
name and deleted afterwards, so no person of the suite is ever locked out."""
from __future__ import annotations

import base64
import secrets
import time
import uuid
from urllib.parse import quote

import pytest
import requests

from oms.store.couch import NotFound

THRESHOLD = 5
LOCKED = "Account is temporarily locked due to multiple authentication failures"


@pytest.fixture(scope="module")
def url(settings) -> str:
    return settings.couchdb_url.rstrip("/")


@pytest.fixture
def account(server, url, settings):
    """account() -> (name, password) of a fresh `_users` account of the run's desk, deleted
    after the test."""
    made = []

    def make():
        name = settings.namespace.user(f"lockout-{uuid.uuid4().hex[:12]}")
        password = secrets.token_urlsafe(12)
        set_password(server, name, password)
        made.append(name)
        # A name the server cannot find yet is refused and never counted; wait until it is found,
        # so every wrong try below counts.
        deadline = time.monotonic() + 15
        while cookie_sign_in(url, name, password).status_code != 200:
            assert time.monotonic() < deadline, f"the new account {name} never signed in"
            time.sleep(0.2)
        return name, password

    yield make
    users = server.admin("_users")
    for name in made:
        doc = users.get_or_none(f"org.couchdb.user:{name}")
        if doc:
            users.delete(doc["_id"], doc["_rev"])


def set_password(server, name: str, password: str) -> None:
    doc_id = f"org.couchdb.user:{name}"
    try:
        doc = server.admin("_users").get(doc_id)
    except NotFound:
        doc = {"_id": doc_id, "name": name, "type": "user", "roles": []}
    doc["password"] = password
    server.request("PUT", f"/_users/{quote(doc_id, safe='')}", json=doc)


def cookie_sign_in(url: str, name: str, password: str) -> requests.Response:
    return requests.post(f"{url}/_session", json={"name": name, "password": password}, timeout=30)


def basic(url: str, name: str, password: str, path: str = "/_session") -> requests.Response:
    return requests.get(url + path, auth=(name, password), timeout=30)


def assert_signed_in(r: requests.Response, name: str, how: str) -> None:
    assert r.status_code == 200, f"{how}: {r.status_code} {r.text[:200]}"
    body = r.json()
    assert body.get("name", (body.get("userCtx") or {}).get("name")) == name, f"{how}: {body}"


def assert_locked(r: requests.Response, how: str) -> None:
    assert r.status_code == 403, f"{how}: expected the lockout, got {r.status_code} {r.text[:200]}"
    assert r.json() == {"error": "forbidden", "reason": LOCKED}, how


def assert_wrong(r: requests.Response, how: str) -> None:
    assert r.status_code == 401, f"{how}: {r.status_code} {r.text[:200]}"
    assert r.json().get("error") == "unauthorized", how


def assert_both_ways_in(url: str, name: str, password: str) -> None:
    assert_signed_in(cookie_sign_in(url, name, password), name, f"{name} by POST /_session")
    assert_signed_in(basic(url, name, password), name, f"{name} by Basic")


# -- the lockout -----------------------------------------------------------------------------------

def test_five_failed_cookie_sign_ins_lock_the_name_out_of_this_address(url, account):
    name, password = account()
    for i in range(THRESHOLD):
        assert_wrong(cookie_sign_in(url, name, f"wrong-{i}"), f"wrong password #{i + 1}")
    assert_locked(cookie_sign_in(url, name, password), "the right password after five failures")
    # the same key whichever way in: Basic on any request is refused too
    assert_locked(basic(url, name, password), "Basic with the right password")
    assert_locked(basic(url, name, password, path="/"), "Basic with the right password on /")
    assert_locked(cookie_sign_in(url, name, "wrong-again"), "a sixth wrong password")

    other, other_password = account()
    assert_both_ways_in(url, other, other_password)


def test_five_failed_basic_requests_lock_the_name_out_of_this_address(url, account):
    name, password = account()
    for i, path in enumerate(("/", "/_session", "/_all_dbs", "/_users", "/_session")):
        assert_wrong(basic(url, name, f"wrong-{i}", path=path), f"Basic with a wrong password on {path}")
    assert_locked(basic(url, name, password), "Basic with the right password after five failures")
    assert_locked(basic(url, name, password, path="/"), "Basic with the right password on /")
    assert_locked(cookie_sign_in(url, name, password), "POST /_session with the right password")

    other, other_password = account()
    assert_both_ways_in(url, other, other_password)


def test_fewer_failures_than_the_threshold_lock_nobody_out(url, account):
    name, password = account()
    for i in range(THRESHOLD - 1):
        assert_wrong(basic(url, name, f"wrong-{i}"), f"wrong password #{i + 1}")
    assert_both_ways_in(url, name, password)


def test_a_success_in_between_does_not_reset_the_count(url, account):
    """CouchDB counts failures until they age out, whatever succeeds meanwhile: the app's own
    successful requests come from the same address as anyone else on the machine, and must not
    hand a guesser four more tries each time."""
    name, password = account()
    for i in range(THRESHOLD - 1):
        assert_wrong(cookie_sign_in(url, name, f"wrong-{i}"), f"wrong password #{i + 1}")
    assert_signed_in(cookie_sign_in(url, name, password), name, "the right password after four failures")
    assert_wrong(basic(url, name, "wrong-5"), "the fifth failure")
    assert_locked(cookie_sign_in(url, name, password), "the right password after the fifth failure")


def test_a_cookie_is_not_a_password(url, account):
    """Expired or forged AuthSession cookies of a name are not failed sign-ins: however many, the
    right password still signs in."""
    name, password = account()
    expired = format(int(time.time()) - 86_400, "X")
    forged = base64.urlsafe_b64encode(f"{name}:{expired}:".encode() + bytes(32)).decode().rstrip("=")
    for _ in range(2 * THRESHOLD):
        r = requests.get(f"{url}/_session", cookies={"AuthSession": forged}, timeout=30)
        assert r.status_code == 200 and r.json()["userCtx"]["name"] is None, f"{r.status_code} {r.text[:200]}"
    assert_both_ways_in(url, name, password)


def test_a_new_password_is_a_new_key(server, url, account):
    """The key holds the account's salt: once an admin sets a new password, its owner signs in
    at once (a cluster may take a moment to stop checking the old one)."""
    name, password = account()
    for i in range(THRESHOLD):
        assert_wrong(cookie_sign_in(url, name, f"wrong-{i}"), f"wrong password #{i + 1}")
    assert_locked(cookie_sign_in(url, name, password), "the right password after five failures")
    new_password = secrets.token_urlsafe(12)
    set_password(server, name, new_password)
    deadline = time.monotonic() + 15
    while (r := cookie_sign_in(url, name, new_password)).status_code != 200:
        assert r.status_code in (401, 403), f"{r.status_code} {r.text[:200]}"
        assert time.monotonic() < deadline, f"the new password never signed in: {r.status_code} {r.text[:200]}"
        time.sleep(0.2)
    assert_both_ways_in(url, name, new_password)
