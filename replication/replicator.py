"""`_replicator` documents: continuous, filtered replications that the server runs by itself and
restarts after a restart. One module knows how to write them for either server:

- Apache CouchDB 3 evaluates a Mango selector natively and fast; PouchDB Server 4.2.0 ignores a
  selector on POST /_replicate and, in a `_replicator` document with an HTTP source, crashes
  (docs/architecture.md). So the selector is used only when both the server that runs the replication and
  the source are CouchDB 3; otherwise the equivalent filter function of a design document, with
  query_params (it works on both, slower on CouchDB 3).
- Endpoints carry their credentials in a Basic `Authorization` header object, which both servers
  accept (PouchDB's replicator turns it into URL credentials itself); never `create_target`,
  which makes PouchDB Server 4.2.0 exit (TypeError in routes/db.js): databases are created first.
- A `_replicator` document in the "triggered" state cannot be edited on PouchDB Server (its
  _replicator design document refuses), so a changed replication is deleted and written anew;
  the checkpoint survives, as it is keyed by source, target and filter, not by document.
- What a replication is doing: CouchDB 3 answers `GET /_scheduler/docs/_replicator/<id>` (state
  initializing / running / pending / crashing / error / failed / completed); its document holds
  only a final `_replication_state` (completed, failed), which the scheduler writes itself, and
  a read soon after may come from a copy that does not have it yet. PouchDB Server 4.2.0 has
  no `_scheduler` (404): its replicator writes "triggered", "error" or "completed" into the
  document. `job_state` reads whichever the server offers.
- On a cluster every read of a `_replicator` document this module edits asks every copy (r = n)
  and every write waits for every copy (w = n): a copy that missed the scheduler's last write
  would otherwise hand out a stale revision, and the delete would fail or leave a conflict.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from urllib.parse import quote

import requests

from oms.core import memories
from oms.store.couch import Conflict, CouchError, CouchServer, NotFound, Unavailable

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


# How often CouchDB 3 records a running replication's checkpoint, in milliseconds. Its default is
# 30 s, so for the first half minute of a replication nothing is checkpointed (the status shows
# none) and after a restart up to 30 s of work is done again. A checkpoint of a replication that
# has moved on costs two small `_local` writes; one that has not moved on costs nothing (CouchDB
# skips it). PouchDB's replicator checkpoints after every batch and has no such option.
CHECKPOINT_INTERVAL_MS = 5000


def document(doc_id: str, host_url: str, source: Endpoint, target: Endpoint, route: Route | None) -> dict:
    doc = {"_id": doc_id, "source": source.as_json(), "target": target.as_json(), "continuous": True}
    kind = server_kind(host_url)
    if kind == "pouchdb-server":
        doc["batch_size"] = POUCHDB_BATCH_SIZE  # CouchDB 3 names it worker_batch_size, default 500
    elif kind == "couchdb":
        doc["checkpoint_interval"] = CHECKPOINT_INTERVAL_MS
    if route is not None:
        if uses_selector(host_url, source):
            doc["selector"] = route.selector
        else:
            doc["filter"] = route.filter
            if route.query_params:
                doc["query_params"] = route.query_params
    return doc


_SPEC_KEYS = ("source", "target", "continuous", "filter", "query_params", "selector", "batch_size",
              "checkpoint_interval")

# A document's own record of a replication that has stopped for good: "failed" on CouchDB 3,
# "error" on PouchDB Server (CouchDB 3 keeps retrying what it calls "error" or "crashing" and
# writes neither into the document).
_GAVE_UP = ("failed", "error")


def _same(current: dict, wanted: dict) -> bool:
    return all(current.get(k) == wanted.get(k) for k in _SPEC_KEYS)


def _replicator_copies(host: CouchServer) -> int:
    """How many copies of each `_replicator` document the server keeps (a cluster's n; 1 for a
    single node or PouchDB Server, whose answer has no `cluster` member)."""
    n = memories.replicator_copies.get(host.url)
    if n is None:
        try:
            info = host.request("GET", "/_replicator") or {}
        except NotFound:   # not there yet: whatever is written first creates it on one node
            return 1
        n = memories.replicator_copies[host.url] = int((info.get("cluster") or {}).get("n") or 1)
    return n


def _path(doc_id: str) -> str:
    return "/_replicator/" + quote(doc_id, safe="")


def _quorum(host: CouchServer, name: str) -> dict:
    n = _replicator_copies(host)
    return {name: n} if n > 1 else {}


def _current(host: CouchServer, doc_id: str) -> dict | None:
    try:
        return host.request("GET", _path(doc_id), params=_quorum(host, "r"))
    except NotFound:
        return None


def _delete(host: CouchServer, doc_id: str, current: dict | None, attempts: int = 5) -> bool:
    """Delete the document whose last revision we read as `current`; when its revision moved on
    meanwhile (the scheduler recorded a state), read it again and retry."""
    for _ in range(attempts):
        if current is None:
            return False
        try:
            host.request("DELETE", _path(doc_id), params={"rev": current["_rev"], **_quorum(host, "w")})
            return True
        except Conflict:
            current = _current(host, doc_id)
    raise Conflict(f"_replicator/{doc_id} kept changing while it was being deleted")


def _write(host: CouchServer, doc: dict) -> None:
    host.request("PUT", _path(doc["_id"]), params=_quorum(host, "w"),
                 json={k: v for k, v in doc.items() if k != "_rev"})


def ensure(host: CouchServer, doc: dict) -> str:
    """Write the `_replicator` document unless an identical one is there: 'created', 'updated'
    or 'unchanged'. `host` is the server that runs the replication (admin credentials)."""
    current = _current(host, doc["_id"])
    if current is not None and _same(current, doc) and current.get("_replication_state") not in _GAVE_UP:
        return "unchanged"
    _delete(host, doc["_id"], current)
    _write(host, doc)
    return "created" if current is None else "updated"


def restart(host: CouchServer, doc_id: str) -> None:
    """Start a replication afresh from its checkpoint (after a long outage its retry back-off can
    be minutes; this does not wait for it)."""
    current = _current(host, doc_id)
    if current is None:
        raise NotFound(f"no replication {doc_id}", 404)
    spec = {k: v for k, v in current.items() if k in _SPEC_KEYS or k == "_id"}
    _delete(host, doc_id, current)
    _write(host, spec)


def remove(host: CouchServer, doc_id: str) -> bool:
    return _delete(host, doc_id, _current(host, doc_id))


def has_scheduler(host: CouchServer) -> bool:
    """Does the server report its replications through `_scheduler` (CouchDB 2.1+, Cloudant)?
    PouchDB Server answers 404. Asked once per server and kept, unless it could not answer."""
    known = memories.schedulers.get(host.url)
    if known is None:
        try:
            host.request("GET", "/_scheduler/jobs", params={"limit": 0})
            known = True
        except NotFound:
            known = False
        except CouchError:   # it did not answer now: go by its welcome
            return server_kind(host.url) == "couchdb"
        memories.schedulers[host.url] = known
    return known


def job(host: CouchServer, doc_id: str) -> dict | None:
    """The scheduler's view of the replication of `_replicator/<doc_id>` (CouchDB 3), or None when
    it has none (not yet seen, removed, or a server without `_scheduler`)."""
    try:
        return host.request("GET", "/_scheduler/docs" + _path(doc_id))
    except NotFound:
        return None
    except Unavailable as exc:
        # CouchDB 3.5 answers 500 function_clause when asked at the moment a job is scheduled
        # but not yet started (apache/couchdb#1000): a transitional state, not an error.
        if "function_clause" in str(exc):
            return None
        raise


# PouchDB Server's words for what CouchDB 3's scheduler calls its states.
POUCH_STATES = {"triggered": "running", "error": "failed", "completed": "completed"}


def job_state(host: CouchServer, doc_id: str) -> str | None:
    """What the replication of `_replicator/<doc_id>` is doing, in CouchDB 3's words:
    initializing, running, pending, crashing, error, failed or completed; None when there is no
    such document. Read from `_scheduler/docs` where the server has it, else from the state
    PouchDB Server writes into the document."""
    if has_scheduler(host):
        info = job(host, doc_id)
        if info is not None:
            return info.get("state") or "initializing"
        return "initializing" if _current(host, doc_id) is not None else None
    current = _current(host, doc_id)
    if current is None:
        return None
    state = current.get("_replication_state")
    return POUCH_STATES.get(state, state) if state else "initializing"


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
