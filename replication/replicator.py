"""`_replicator` documents: continuous, filtered replications that the server runs by itself and
restarts after a restart. One module knows how to write them for either server:

- Apache CouchDB 3 evaluates a Mango selector natively and fast; PouchDB Server 4.2.0 ignores a
  selector on POST /_replicate and, in a `_replicator` document with an HTTP source, crashes
  (FACTS.md). So the selector is used only when both the server that runs the replication and
  the source are CouchDB 3; otherwise the equivalent filter function of a design document, with
  query_params (it works on both, slower on CouchDB 3).
- Endpoints carry their credentials in a Basic `Authorization` header object, which both servers
  accept (PouchDB's replicator turns it into URL credentials itself); never `create_target`,
  which makes PouchDB Server 4.2.0 exit (TypeError in routes/db.js): databases are created first.
- A `_replicator` document in the "triggered" state cannot be edited on PouchDB Server (its
  _replicator design document refuses), so a changed replication is deleted and written anew;
  the checkpoint survives, as it is keyed by source, target and filter, not by document.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass

import requests

from oms.couch import CouchServer, NotFound

TIMEOUT = 5


@dataclass(frozen=True)
class Endpoint:
    """A database on a server, and the identity a replication uses there."""
    server_url: str
    db: str
    user: str
    password: str

    @property
    def url(self) -> str:
        return f"{self.server_url.rstrip('/')}/{self.db}"

    def as_json(self) -> dict:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return {"url": self.url, "headers": {"Authorization": f"Basic {token}"}}


@dataclass(frozen=True)
class Route:
    """What one replication copies: a filter function (any server) and its equivalent selector
    (CouchDB 3 only)."""
    filter: str
    query_params: dict
    selector: dict


@functools.lru_cache(maxsize=64)
def _welcome(server_url: str) -> dict:
    r = requests.get(server_url.rstrip("/") + "/", timeout=TIMEOUT)
    r.raise_for_status()
    return r.json()


def server_kind(server_url: str) -> str:
    """'couchdb' (Apache CouchDB 2/3, Cloudant) or 'pouchdb-server' (the embedded one)."""
    try:
        welcome = _welcome(server_url)
    except (requests.RequestException, ValueError):
        _welcome.cache_clear()
        return "unknown"
    if "express-pouchdb" in welcome or "pouchdb-server" in welcome:
        return "pouchdb-server"
    return "couchdb" if "couchdb" in welcome else "unknown"


def server_uuid(server_url: str) -> str | None:
    try:
        return _welcome(server_url).get("uuid")
    except (requests.RequestException, ValueError):
        _welcome.cache_clear()
        return None


def uses_selector(host_url: str, source: Endpoint) -> bool:
    return server_kind(host_url) == "couchdb" and server_kind(source.server_url) == "couchdb"


# Documents per batch when PouchDB's replicator runs the replication: its default is 100, and a
# filtered replication pays per batch one filtered _changes request (the server fetches the design
# document and compiles the filter anew for each), a _revs_diff, a fetch, a _bulk_docs (validated)
# and four checkpoint requests, each authenticated as the replicator identity. 500 is what Apache
# CouchDB 3 uses by default (replicator worker_batch_size); it made the initial copy of a
# partner's 10,000 orders out of 100,000 about a third faster (bench/bench_replication.py).
POUCHDB_BATCH_SIZE = 500


def document(doc_id: str, host_url: str, source: Endpoint, target: Endpoint, route: Route | None) -> dict:
    doc = {"_id": doc_id, "source": source.as_json(), "target": target.as_json(), "continuous": True}
    if server_kind(host_url) == "pouchdb-server":
        doc["batch_size"] = POUCHDB_BATCH_SIZE  # CouchDB 3 names it worker_batch_size, default 500
    if route is not None:
        if uses_selector(host_url, source):
            doc["selector"] = route.selector
        else:
            doc["filter"] = route.filter
            if route.query_params:
                doc["query_params"] = route.query_params
    return doc


_SPEC_KEYS = ("source", "target", "continuous", "filter", "query_params", "selector", "batch_size")


def _same(current: dict, wanted: dict) -> bool:
    return all(current.get(k) == wanted.get(k) for k in _SPEC_KEYS)


def ensure(host: CouchServer, doc: dict) -> str:
    """Write the `_replicator` document unless an identical one is there: 'created', 'updated'
    or 'unchanged'. `host` is the server that runs the replication (admin credentials)."""
    db = host.admin("_replicator")
    current = db.get_or_none(doc["_id"])
    if current is not None and _same(current, doc) and current.get("_replication_state") != "error":
        return "unchanged"
    if current is not None:
        db.delete(doc["_id"], current["_rev"])
    db.save({k: v for k, v in doc.items() if k != "_rev"})
    return "created" if current is None else "updated"


def restart(host: CouchServer, doc_id: str) -> None:
    """Start a replication afresh from its checkpoint (after a long outage its retry back-off can
    be minutes; this does not wait for it)."""
    db = host.admin("_replicator")
    current = db.get(doc_id)
    spec = {k: v for k, v in current.items() if k in _SPEC_KEYS or k == "_id"}
    db.delete(doc_id, current["_rev"])
    db.save(spec)


def remove(host: CouchServer, doc_id: str) -> bool:
    db = host.admin("_replicator")
    current = db.get_or_none(doc_id)
    if current is None:
        return False
    db.delete(doc_id, current["_rev"])
    return True


def ours(host: CouchServer, prefix: str = "oms-") -> list[dict]:
    """The `_replicator` documents this system wrote (ids start with "oms-")."""
    db = host.admin("_replicator")
    try:
        rows = db.all_docs(include_docs=True, start_key=prefix, end_key=prefix + "\ufff0")["rows"]
    except NotFound:
        return []
    return [r["doc"] for r in rows if r.get("doc")]


def endpoint_of(spec) -> tuple[str, str, tuple[str, str] | None]:
    """(server url, db, (user, password) or None) of a `_replicator` source/target."""
    if isinstance(spec, str):
        url, auth = spec, None
    else:
        url, auth = spec["url"], None
        header = (spec.get("headers") or {}).get("Authorization", "")
        if header.startswith("Basic "):
            user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
            auth = (user, pw)
    server, _, db = url.rstrip("/").rpartition("/")
    return server, requests.utils.unquote(db), auth


def pouchdb_checkpoint_id(source: tuple[str, str], target: tuple[str, str], doc: dict) -> str | None:
    """The `_local/…` checkpoint document PouchDB's replicator keeps in source and target
    (pouchdb-generate-replication-id: md5 of the two servers' uuid + database, filter and
    query_params). None when a server does not answer."""
    parts = []
    for server_url, db in (source, target):
        uuid = server_uuid(server_url)
        if uuid is None:
            return None
        parts.append(uuid + db)
    data = "".join(parts)
    if doc.get("filter"):
        data += doc["filter"]
        if doc.get("query_params"):
            data += json.dumps(dict(sorted(doc["query_params"].items())), separators=(",", ":"),
                               ensure_ascii=False)
    digest = base64.b64encode(hashlib.md5(data.encode()).digest()).decode()
    return "_local/" + digest.replace("/", ".").replace("+", "_")
