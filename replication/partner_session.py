"""Partner people sign in with their CouchDB account (_users, not LDAP). The web app keeps their
CouchDB session cookie (AuthSession, from POST /_session) in its signed session and acts in the
partner's database with it, so every write reaches CouchDB as the person; it never keeps a
password. The API takes HTTP Basic instead. A password is checked by the app against the
account before the server sees it (`account`).

- PouchDB Server reads `name` (not `username`) in POST /_session (docs/architecture.md); CouchDB 3 takes
  `name` too.
- Both servers expire the cookie after its timeout (600 s by default) and send a fresh one in
  Set-Cookie (PouchDB Server on every cookie request, CouchDB 3 past half the timeout): `whoami`
  returns it so the app can keep the person signed in while they work."""
from __future__ import annotations

import requests
from ibm_cloud_sdk_core.authenticators import Authenticator
from ibmcloudant.cloudant_v1 import CloudantV1

from oms.core.namespace import Namespace
from oms.identity import people
from oms.store.couch import CouchServer, Database, Unauthorized, Unavailable

from .partners import PartnerPerson, database_name

TIMEOUT = 10


def _fresh_cookie(resp: requests.Response) -> str | None:
    value = resp.cookies.get("AuthSession")
    return value or None


def _call(method: str, url: str, **kw) -> requests.Response:
    # A plain request, not the shared session: a session cookie must never land in a shared jar.
    try:
        return requests.request(method, url, timeout=TIMEOUT, **kw)
    except requests.RequestException as exc:
        raise Unavailable(f"database server unreachable: {exc.__class__.__name__}") from exc


def account(server: CouchServer, name: str, password: str, namespace: Namespace) -> PartnerPerson | None:
    """The partner person whose account `password` opens, checked by the app (people.password_matches)
    before the server ever sees it: CouchDB 3 locks a name out after five wrong passwords from one
    address, and every partner signs in through the app's address, so wrong guesses sent on would
    let a stranger lock the owner out. The app throttles the guesser by name and address instead."""
    doc = server.admin("_users").get_or_none(namespace.user_id(name)) if name else None
    if not people.password_matches(doc, password):
        return None
    return PartnerPerson.from_roles(doc.get("name"), doc.get("roles"), namespace)


def sign_in(server: CouchServer, name: str, password: str, namespace: Namespace) -> tuple[PartnerPerson, str]:
    """(the person, their session cookie); Unauthorized with one sentence for any failure, so
    the page does not tell which names exist."""
    if account(server, name, password, namespace) is None:
        raise Unauthorized("Wrong user name or password.")
    r = _call("POST", server.url + "/_session", json={"name": namespace.user(name), "password": password})
    if r.status_code == 401:
        raise Unauthorized("Wrong user name or password.")
    if r.status_code >= 400:
        raise Unavailable("The sign-in service is not available; try again shortly.")
    person = PartnerPerson.from_roles(r.json().get("name") or namespace.user(name), r.json().get("roles"), namespace)
    cookie = _fresh_cookie(r) or r.cookies.get("AuthSession")
    if person is None or not cookie:
        raise Unauthorized("Wrong user name or password.")
    return person, cookie


def whoami(server: CouchServer, cookie: str, namespace: Namespace) -> tuple[PartnerPerson | None, str]:
    """Who the cookie belongs to now (None once it expired or the account changed), and the
    cookie to keep (a fresh one when the server sent it)."""
    r = _call("GET", server.url + "/_session", cookies={"AuthSession": cookie})
    if r.status_code >= 500:
        raise Unavailable("The database server is not available; try again shortly.")
    ctx = (r.json().get("userCtx") or {}) if r.ok else {}
    person = PartnerPerson.from_roles(ctx.get("name"), ctx.get("roles"), namespace) if ctx.get("name") else None
    return person, _fresh_cookie(r) or cookie


def check_basic(server: CouchServer, name: str, password: str, namespace: Namespace) -> PartnerPerson | None:
    """The partner person these Basic credentials belong to, or None (checked as sign_in checks)."""
    return account(server, name, password, namespace)


class CookieAuthenticator(Authenticator):
    """Sends the person's CouchDB session cookie with each request of the client library."""

    def __init__(self, cookie: str):
        self.cookie = cookie
        self.username, self.password = None, None

    def authentication_type(self) -> str:
        return "cookie"

    def validate(self) -> None:
        if not self.cookie:
            raise ValueError("no session cookie")

    def authenticate(self, req) -> None:
        req["headers"]["Cookie"] = f"AuthSession={self.cookie}"


def partner_db(server: CouchServer, person: PartnerPerson, cookie: str, namespace: Namespace) -> Database:
    """The partner's own database, as the signed-in person (their session cookie)."""
    svc = CloudantV1(authenticator=CookieAuthenticator(cookie))
    svc.set_service_url(server.url)
    svc.set_http_client(server.session)  # its cookie jar accepts nothing (oms.store.couch)
    svc.set_http_config({"timeout": server.timeout})
    return Database(server, svc, database_name(person.partner, namespace))
