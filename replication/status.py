"""Each replication's state, last checkpoint, pending changes and errors, as far as the server
tells:

- Apache CouchDB 3: `GET /_scheduler/docs/_replicator/<id>` gives the state (initializing,
  running, pending, crashing, error, failed, completed), info.checkpointed_source_seq ("0" until
  the first checkpoint), info.doc_write_failures and info.error. Its info.changes_pending
  is null until the job first asks the source, refreshed at most once per connection timeout
  (30 s), and counts every change after the job's position, filter or not; a filtered
  continuous job moves its position lazily past changes that do not pass (a partner's push showed
  another partner's changes as pending for over 10 s). So the pending changes are counted here
  as on PouchDB Server, with the replication's own selector or filter, after the job's
  info.through_seq (every change up to it has reached the target).
- PouchDB Server 4.2.0 has no `_scheduler` (404) and `_active_tasks` is an empty stub. Its
  replicator writes only `_replication_state` ("triggered", "error", "completed") and a time into
  the `_replicator` document, reported here in CouchDB 3's words (running, failed, completed).
  So the checkpoint is read from the replication's own `_local` checkpoint document (its id
  computed as PouchDB computes it) and the pending changes are counted from the source's
  filtered `_changes` since that checkpoint. A continuous replication retries forever and
  reports no write failures: a partner's refused changes are counted from the rejection notes
  the agent records (partners.Partners.audit).

For an offline site the replications live on the branch's server (it drives them); the centre
reports what it sees itself: whether the branch answers, the checkpoints in the central
database, and what the branch has not yet pulled."""
from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import quote

import requests

from oms.core.config import Settings
from oms.store.couch import CouchError, CouchServer

from . import partners as partners_mod
from . import replicator
from . import sites as sites_mod

log = logging.getLogger(__name__)


@dataclass
class State:
    id: str
    kind: str                 # "partner" or "site"
    name: str                 # the partner id or site name
    direction: str            # "push" (centre -> replica) or "pull" (replica -> centre)
    source: str
    target: str
    state: str                # running, error, crashing, pending, completed, unreachable, unknown
    checkpoint: str | None = None
    pending: int | None = None
    failures: int | None = None
    errors: list[str] = field(default_factory=list)
    updated: str | None = None
    server: str = ""
    refusal: str | None = None   # why the centre refused the latest of a partner's changes it refused

    def as_dict(self) -> dict:
        return asdict(self)


def redact(text: str) -> str:
    """PouchDB's replicator puts an endpoint's credentials into its URLs (and so into its error
    messages): never show them."""
    return re.sub(r"//[^/@\s]+@", "//…@", str(text))


def _strip(url_spec) -> str:
    server, db, _ = replicator.endpoint_of(url_spec)
    return f"{server}/{db}"


def _pouch_details(host: CouchServer, doc: dict, st: State) -> None:
    src_server, src_db, src_auth = replicator.endpoint_of(doc["source"])
    tgt_server, tgt_db, tgt_auth = replicator.endpoint_of(doc["target"])
    state = doc.get("_replication_state")
    st.state = replicator.POUCH_STATES.get(state, state) if state else "initializing"
    st.updated = doc.get("_replication_state_time")
    if doc.get("_replication_state_reason"):
        st.errors.append(redact(doc["_replication_state_reason"]))
    for label, server_url, auth in (("source", src_server, src_auth), ("target", tgt_server, tgt_auth)):
        try:
            requests.get(server_url + "/", timeout=2).raise_for_status()
        except requests.RequestException:
            st.state = "unreachable"
            st.errors.append(f"the {label} server {server_url} does not answer; retrying")
    if st.state == "unreachable":
        return
    local_id = replicator.pouchdb_checkpoint_id((src_server, src_db), (tgt_server, tgt_db), doc)
    checkpoint = None
    if local_id:
        try:
            r = requests.get(f"{tgt_server}/{tgt_db}/{local_id}", auth=tgt_auth, timeout=5)
            if r.ok:
                checkpoint = r.json().get("last_seq")
        except requests.RequestException:
            pass
    st.checkpoint = None if checkpoint is None else str(checkpoint)
    try:
        st.pending = _pending(doc, checkpoint or 0)
    except (requests.RequestException, ValueError) as exc:
        st.errors.append(f"pending changes unknown: {exc.__class__.__name__}")


PENDING_LIMIT = 10000


def _pending(doc: dict, since) -> int:
    """What the replication has yet to copy: the changes of its source after `since` that its
    selector, doc_ids or filter lets through (counted up to PENDING_LIMIT)."""
    server_url, db, auth = replicator.endpoint_of(doc["source"])
    params, body = {"since": since, "limit": PENDING_LIMIT}, None
    if doc.get("selector"):
        params["filter"], body = "_selector", {"selector": doc["selector"]}
    elif doc.get("doc_ids"):
        params["filter"], body = "_doc_ids", {"doc_ids": doc["doc_ids"]}
    elif doc.get("filter"):
        params["filter"] = doc["filter"]
        params.update(doc.get("query_params") or {})
    url = f"{server_url}/{quote(db, safe='')}/_changes"
    if body is None:
        r = requests.get(url, params=params, auth=auth, timeout=10)
    else:
        r = requests.post(url, params=params, json=body, auth=auth, timeout=10)
    r.raise_for_status()
    return len(r.json().get("results", []))


def _couch_details(info: dict, doc: dict, st: State) -> None:
    st.state = info.get("state") or "initializing"
    st.updated = info.get("last_updated")
    details = info.get("info") or {}
    checkpoint = details.get("checkpointed_source_seq")
    st.checkpoint = None if checkpoint in (None, 0, "0") else str(checkpoint)
    st.pending = details.get("changes_pending")
    if details.get("through_seq") is not None:
        try:
            st.pending = _pending(doc, details["through_seq"])
        except (requests.RequestException, ValueError) as exc:
            st.errors.append(f"pending changes as the server last counted them: {exc.__class__.__name__}")
    st.failures = details.get("doc_write_failures")
    if details.get("error"):
        st.errors.append(redact(details["error"]))
    if info.get("error_count"):
        st.errors.append(f"{info['error_count']} errors since start")


def replication_state(host: CouchServer, doc: dict, kind: str, name: str, direction: str) -> State:
    st = State(doc["_id"], kind, name, direction, _strip(doc["source"]), _strip(doc["target"]), "unknown",
               server=replicator.server_kind(host.url))
    if replicator.has_scheduler(host):
        info = replicator.job(host, doc["_id"])
        if info is None:  # the scheduler has not taken the document up yet
            st.state = "initializing"
        else:
            _couch_details(info, doc, st)
    else:
        _pouch_details(host, doc, st)
    return st


def partner_states(server: CouchServer, settings: Settings) -> list[State]:
    out = []
    mine = settings.namespace.scoped("oms-partner-")
    for doc in replicator.ours(server, mine):
        _, _, rest = doc["_id"].partition(mine)
        name, _, direction = rest.rpartition("-")
        st = replication_state(server, doc, "partner", name, direction)
        if direction == "pull":
            try:
                notes = server.admin(partners_mod.database_name(name, settings.namespace)).view(
                    "partner", "rejections", descending=True, limit=1000)["rows"]
            except CouchError:
                notes = []
            st.failures = (st.failures or 0) + len(notes)
            if notes:
                st.refusal = notes[0]["value"]["reason"]
                st.errors.append(f"{len(notes)} change(s) refused by the centre; latest: {notes[0]['value']['reason']}")
        out.append(st)
    return out


def site_states(server: CouchServer, settings: Settings) -> list[State]:
    """What the centre sees of each site's replications (they run on the branch's server)."""
    out = []
    central_url = server.url
    for record in sites_mod.sites(server, settings):
        name = record["name"]
        pull_id, push_id = sites_mod.replication_ids(name, settings.namespace)
        branch = (record["server_url"], record["db"])
        centre = (central_url, settings.db_name)
        up = _answers(record["server_url"])
        for doc_id, direction, source, target, flt in (
                (pull_id, "push", centre, branch, "oms/site_pull"),
                (push_id, "pull", branch, centre, "site/to_centre")):
            st = State(doc_id, "site", name, direction, f"{source[0]}/{source[1]}", f"{target[0]}/{target[1]}",
                       "running" if up else "unreachable", server=replicator.server_kind(central_url))
            if not up:
                st.errors.append(f"the branch server {record['server_url']} does not answer; it catches up when it is back")
            local_id = replicator.pouchdb_checkpoint_id(source, target, {"filter": flt}) if up else None
            if local_id:
                try:  # a _local document: the client library refuses such ids, so a raw request
                    st.checkpoint = str(server.request("GET", f"/{settings.db_name}/{local_id}").get("last_seq"))
                except CouchError:
                    st.checkpoint = None
            if direction == "push" and up:
                try:
                    res = server.request("GET", f"/{settings.db_name}/_changes",
                                         params={"since": st.checkpoint or 0, "filter": flt, "limit": 10000})
                    st.pending = len(res.get("results", []))
                except CouchError as exc:
                    st.errors.append(f"pending changes unknown: {exc.reason}")
            out.append(st)
    return out


def _answers(url: str) -> bool:
    try:
        return requests.get(url.rstrip("/") + "/", timeout=2).ok
    except requests.RequestException:
        return False


def overview(server: CouchServer, settings: Settings) -> dict:
    """Everything the status page and `oms replicate status` show."""
    return {"server": replicator.server_kind(server.url),
            "partners": partner_states(server, settings),
            "sites": site_states(server, settings)}
