"""Mirror a person into CouchDB's _users so that every write reaches CouchDB as that person.

Their CouchDB password is derived from the app's secret (HMAC of the name): stable, stored
nowhere, known only to the app. Only this sync uses admin credentials (docs/architecture.md).
In _users a person carries the desk's prefix (oms/core/namespace.py) on their name and roles."""
from __future__ import annotations

import hashlib
import hmac
import time

from oms.core.namespace import Namespace
from oms.store import cas
from oms.store.couch import Conflict, CouchServer, NotFound

from .acl import Access


def couch_password(secret_key: str, name: str) -> str:
    return hmac.new(secret_key.encode(), b"couchdb-user:" + name.encode(), hashlib.sha256).hexdigest()


def _key_id(secret_key: str) -> str:
    # Names which secret derived the password, so a new SECRET_KEY rewrites it (not secret itself).
    return hashlib.sha256(b"oms-key-id:" + secret_key.encode()).hexdigest()[:16]


def open_as(server: CouchServer, secret_key: str, db_name: str, name: str, namespace: Namespace):
    """The database `db_name` as the desk's person `name` (mirrored before)."""
    return server.as_person(db_name, namespace.user(name), couch_password(secret_key, name))


def mirror(server: CouchServer, secret_key: str, access: Access, kind: str = "staff", *,
           namespace: Namespace) -> bool:
    """Create or update the person's _users document when roles or key changed. True if written.
    Several requests may sign the same person in at once: a lost race (409) just looks again."""
    users = server.admin("_users")
    doc_id = namespace.user_id(access.name)
    roles, key = namespace.roles(access.couch_roles()), _key_id(secret_key)
    for _ in range(5):
        try:
            doc = users.get(doc_id)
        except NotFound:
            doc = {"_id": doc_id, "name": namespace.user(access.name), "type": "user"}
        if doc.get("roles") == roles and doc.get("oms_key") == key and doc.get("oms_kind") == kind:
            return False
        doc.update(roles=roles, oms_key=key, oms_kind=kind, password=couch_password(secret_key, access.name))
        try:
            # Settled on every copy (oms/store/cas.py): CouchDB refuses to sign in with a _users document
            # in conflict, which two processes signing the same person in at once would leave.
            cas.save(users, doc)
            return True
        except Conflict:
            continue  # signing in on several requests at once: another one mirrored first; look again
    raise Conflict(f"could not mirror {access.name} into _users: it keeps changing")


def system_access(entries: list[dict]) -> Access:
    """The identity the server's own agents act as (hand-offs, escalations, imports), like the
    signer of a Notes agent: an ordinary ACL entry (rules/acl.json), never the CouchDB admin."""
    from oms.core import rules

    from . import acl
    return acl.resolve(entries, rules.acl()["system_identity"], ())


def as_system(server: CouchServer, secret_key: str, db_name: str, entries: list[dict], namespace: Namespace):
    """(Access, Database) for the system identity, mirrored into _users on first use."""
    access = system_access(entries)
    mirror(server, secret_key, access, kind="system", namespace=namespace)
    return access, open_as(server, secret_key, db_name, access.name, namespace)


def sign_out(server: CouchServer, name: str, session_id: str, until: float, namespace: Namespace) -> None:
    """Record that the session `session_id` of `name` ended (a sign-out), on the person's _users
    document, so that every worker refuses its cookie; kept until the session would have expired
    anyway (`until`, epoch seconds), then forgotten."""
    users = server.admin("_users")
    doc_id = namespace.user_id(name)
    for _ in range(5):
        doc = users.get_or_none(doc_id)
        if doc is None:
            return   # never mirrored (No Access, or a partner's account lives elsewhere): nothing to end
        now = time.time()
        ended = {sid: t for sid, t in (doc.get("oms_signed_out") or {}).items() if t > now}
        ended[session_id] = until
        doc["oms_signed_out"] = ended
        try:
            cas.save(users, doc)
            return
        except Conflict:
            continue
    raise Conflict(f"could not record the sign-out of {name}: the account keeps changing")


def signed_out(server: CouchServer, name: str, namespace: Namespace) -> set[str]:
    """The ids of `name`'s sessions that were signed out and have not expired yet."""
    doc = server.admin("_users").get_or_none(namespace.user_id(name)) or {}
    now = time.time()
    return {sid for sid, t in (doc.get("oms_signed_out") or {}).items() if t > now}


def password_matches(user_doc: dict | None, password: str) -> bool:
    """Does `password` open this _users document? Checked as CouchDB checks it (PBKDF2 with the
    document's salt, iterations and hash function; CouchDB 3.4+ writes SHA-256, PouchDB Server and
    older CouchDB SHA-1), without asking the server: a wrong password sent to CouchDB counts
    towards its lockout of the name, for every client behind the same address (the app)."""
    if not user_doc or not password or user_doc.get("password_scheme") != "pbkdf2":
        return False
    prf = user_doc.get("pbkdf2_prf", "sha1")
    if prf not in ("sha1", "sha256", "sha512"):
        return False
    try:
        want = bytes.fromhex(user_doc["derived_key"])
        got = hashlib.pbkdf2_hmac(prf, password.encode(), user_doc["salt"].encode(),
                                  int(user_doc["iterations"]), dklen=len(want))
    except (KeyError, ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)
