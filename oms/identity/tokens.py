"""API tokens for integrations: a Manager issues one for a client system with the ACL level and
roles it needs, sees the secret once, and may revoke it. Only sha256(token) is stored (a token is
32 random bytes, so a plain hash is enough; no password-style stretching needed).

A token acts as its own mirrored identity `api.<client>` (CouchDB _users, password derived from
SECRET_KEY like a person's), so validate_doc_update sees and checks the client like a person:
never the CouchDB admin. Revoking the last token of a client takes the identity's roles away."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from oms.core import rules
from oms.core.clock import utcnow
from oms.core.errors import InvalidInput
from oms.core.namespace import Namespace
from oms.store.couch import CouchServer, Database, NotFound

from . import acl, people
from .acl import Access

PREFIX = "odt_"
CLIENT = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")
_TOKEN = re.compile(r"odt_([0-9a-f]{12})_([A-Za-z0-9_-]{20,})")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def identity_of(client: str) -> str:
    return f"api.{client}"


def access_of(doc: dict) -> Access:
    return Access(doc["identity"], doc["level"], tuple(doc.get("roles", ())))


def list_tokens(db: Database) -> list[dict]:
    res = db.all_docs(start_key="apitoken:", end_key="apitoken:\ufff0", include_docs=True)
    return sorted((r["doc"] for r in res["rows"] if r.get("doc")), key=lambda d: d["created_at"], reverse=True)


def issue(db: Database, server: CouchServer, secret_key: str, by: Access, client: str, level: str,
          roles=(), note: str = "", clock=utcnow, *, namespace: Namespace) -> tuple[str, dict]:
    """(the token, shown once; its document). `db` is the issuing Manager's (or the admin's)."""
    client = (client or "").strip().lower()
    if not CLIENT.fullmatch(client):
        raise InvalidInput("client must be a short name: lower-case letters, digits and . _ - (e.g. erp)")
    if level not in acl.levels() or acl.level_index(level) < acl.level_index("depositor"):
        raise InvalidInput(f"level must be one of {', '.join(acl.levels()[1:])}")
    if acl.level_index(level) > by.level_index:
        raise InvalidInput(f"you may not issue a token above your own level ({by.level_title})")
    known = rules.acl()["roles"]
    roles = [r for r in dict.fromkeys(roles) if r]
    bad = [r for r in roles if r not in known]
    if bad:
        raise InvalidInput(f"unknown role(s) {', '.join(bad)}; one of {', '.join(known)}")
    if any(t["client"] == client and not t.get("revoked_at") for t in list_tokens(db)):
        raise InvalidInput(f"{client} already has an active token; revoke it first (one identity, one level)")
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    doc = {"_id": f"apitoken:{token_id}", "type": "api_token", "client": client, "identity": identity_of(client),
           "level": level, "roles": roles, "hash": token_hash(token), "note": (note or "").strip()[:200],
           "created_by": by.name, "created_at": clock()}
    # Mirror first: a token whose identity CouchDB does not know yet would fail its first call.
    people.mirror(server, secret_key, access_of(doc), kind="token", namespace=namespace)
    db.save(doc)
    return token, doc


def verify(db: Database, token: str) -> dict | None:
    """The token's document if `token` is genuine and not revoked; else None."""
    m = _TOKEN.fullmatch(token or "")
    if not m:
        return None
    try:
        doc = db.get(f"apitoken:{m.group(1)}")
    except NotFound:
        return None
    if doc.get("type") != "api_token" or doc.get("revoked_at"):
        return None
    return doc if hmac.compare_digest(doc["hash"], token_hash(token)) else None


def revoke(db: Database, server: CouchServer, secret_key: str, token_id: str, by: Access, clock=utcnow, *,
           namespace: Namespace) -> dict:
    token_id = token_id.removeprefix("apitoken:")
    try:
        doc = db.get(f"apitoken:{token_id}")
    except NotFound:
        raise NotFound(f"no API token {token_id}") from None
    if doc.get("revoked_at"):
        return doc
    doc.update(revoked_at=clock(), revoked_by=by.name)
    db.save(doc)
    if not any(t["client"] == doc["client"] and not t.get("revoked_at") for t in list_tokens(db)):
        people.mirror(server, secret_key, Access(doc["identity"], "no_access", ()), kind="token", namespace=namespace)
    return doc
