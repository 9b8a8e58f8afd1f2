"""Offline sites: a branch office runs its own CouchDB-API server with a full two-way replica of
the central database, so people there keep working when the link is down and both sides
converge when it is back (conflicting edits of one order become CouchDB conflicts: see
conflicts.py).

The branch drives: its own `_replicator` holds the two continuous replications, so they restart
whenever the branch's server starts and need nothing from the centre to begin again. They run as
the central and the branch server admins (a site is one of ours, replicating design documents
too; every person's edit was checked at the branch by the same validate_doc_update).

What stays local on each side (rules/replication.json sites.local_ids): the order-number
counter. The branch hands out numbers from a block it reserves at the centre when it is set up,
so offline orders never collide with the centre's. And `_design/site` (branch only): stock is
decided at the centre, so the branch refuses stock changes and the "allocate" step; orders placed
offline wait as submitted and are allocated when they arrive."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from couch_design.deploy import security_object
from oms.core.clock import utcnow
from oms.core.config import Settings
from oms.core.errors import InvalidInput
from oms.core.namespace import Namespace
from oms.core.rules import load_rules
from oms.store.couch import Conflict, CouchServer, NotFound

from . import design, replicator

DEFAULT_BLOCK = 100_000
COUNTER_ID = "counter:order"


@dataclass(frozen=True)
class Target:
    server_url: str      # without credentials
    user: str
    password: str
    db: str

    @classmethod
    def parse(cls, url: str, default_db: str) -> "Target":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"--to must be a URL like http://admin:secret@branch:5984/orders, not {url!r}")
        if not parts.username or parts.password is None:
            raise InvalidInput("--to must carry the branch server's admin credentials (http://admin:secret@host:port/db)")
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        db = unquote(parts.path.strip("/")) or default_db
        return cls(f"{parts.scheme}://{host}", unquote(parts.username), unquote(parts.password), db)

    @property
    def public(self) -> str:
        return f"{self.server_url}/{self.db}"


def site_name(target: Target, name: str | None) -> str:
    name = name or re.sub(r"[^a-z0-9]+", "-", urlsplit(target.server_url).netloc.lower()).strip("-")
    if not re.match(r"^[a-z0-9][a-z0-9-]{0,39}$", name):
        raise InvalidInput(f"a site name is letters, digits and dashes (at most 40), not {name!r}")
    return name


def replication_ids(name: str, namespace: Namespace = Namespace()) -> tuple[str, str]:
    return namespace.scoped(f"oms-site-{name}-pull"), namespace.scoped(f"oms-site-{name}-push")


def reserve_block(central_admin, size: int) -> tuple[int, int]:
    """Claim `size` order numbers from the central counter (hi/lo, as oms.store.numbers does)."""
    for _ in range(50):
        doc = central_admin.get_or_none(COUNTER_ID) or {"_id": COUNTER_ID, "type": "counter", "value": 0}
        start = doc["value"] + 1
        doc["value"] += size
        try:
            central_admin.save(doc)
            return start, start + size - 1
        except Conflict:
            continue
    raise Conflict("could not reserve order numbers: the counter is too busy; try again")


def setup(server: CouchServer, settings: Settings, to_url: str, name: str | None = None,
          block: int = DEFAULT_BLOCK, progress=print, centre_url: str | None = None) -> dict:
    """Make (or repair) the branch replica at `to_url`. `centre_url` is the address the branch
    reaches the centre by (default: the one this process uses). Idempotent; returns {what:
    outcome}."""
    target = Target.parse(to_url, settings.db_name)
    name = site_name(target, name)
    branch = CouchServer(target.server_url, target.user, target.password)
    if not branch.up():
        raise InvalidInput(f"the branch server {target.server_url} does not answer")
    central = server.admin(settings.db_name)
    oms_design = central.get("_design/oms")
    if "site_pull" not in oms_design.get("filters", {}):
        raise InvalidInput("the central design has no filters/site_pull: run `oms deploy` first")
    out: dict[str, str] = {}
    bdb = branch.admin(target.db)
    progress(f"site {name}: database {target.public} ...")
    out["database"] = "created" if bdb.create() else "exists"
    # The central design with its revision history, so both sides hold the same revision and the
    # replication's filters exist before any replication names them (a missing filter makes
    # PouchDB Server exit).
    progress(f"site {name}: design documents and security ...")
    full = central.get("_design/oms", revs=True)
    bdb.bulk([full], new_edits=False)
    out["_design/oms"] = full["_rev"]
    out["_design/site"] = design.push_design(bdb, design.site_design(settings.namespace))
    wanted = security_object(load_rules()["acl"], settings.namespace)
    if {k: bdb.get_security().get(k) for k in ("admins", "members")} != wanted:
        bdb.put_security(wanted)
    out["numbers"] = _ensure_numbers(central, bdb, name, block, progress)
    record = central.get_or_none(f"site:{name}") or {"_id": f"site:{name}", "type": "site", "name": name,
                                                      "created_at": utcnow()}
    record.update(url=target.public, server_url=target.server_url, db=target.db)
    central.save(record)
    progress(f"site {name}: continuous replications, driven by the branch ...")
    out.update(_ensure_replications(centre_url or server.url, settings, branch, target, name))
    return out


def _ensure_numbers(central, bdb, name: str, block: int, progress) -> str:
    counter = bdb.get_or_none(COUNTER_ID)
    if counter and counter.get("limit") and counter["limit"] - counter["value"] > block // 10:
        return f"{counter['limit'] - counter['value']} numbers left (up to {counter['limit']})"
    start, end = reserve_block(central, block)
    progress(f"site {name}: reserved order numbers {start} to {end}")
    doc = counter or {"_id": COUNTER_ID, "type": "counter"}
    doc.update(value=start - 1, limit=end, site=name)
    bdb.save(doc)
    return f"reserved {start}-{end}"


def _ensure_replications(centre_url: str, settings: Settings, branch: CouchServer, target: Target,
                         name: str) -> dict:
    local_ids = load_rules()["replication"]["sites"]["local_ids"]
    centre = replicator.Endpoint(centre_url, settings.db_name, settings.couchdb_user, settings.couchdb_password)
    here = replicator.Endpoint(target.server_url, target.db, target.user, target.password)
    pull_id, push_id = replication_ids(name, settings.namespace)
    pull = replicator.Route("oms/site_pull", {}, {"_id": {"$nin": local_ids}})
    push = replicator.Route("site/to_centre", {},
                            {"$and": [{"_id": {"$nin": local_ids}}, {"_id": {"$regex": "^(?!_design/)"}}]})
    return {
        pull_id: replicator.ensure(branch, replicator.document(pull_id, target.server_url, centre, here, pull)),
        push_id: replicator.ensure(branch, replicator.document(push_id, target.server_url, here, centre, push)),
    }


def sites(server: CouchServer, settings: Settings) -> list[dict]:
    central = server.admin(settings.db_name)
    try:
        rows = central.all_docs(include_docs=True, start_key="site:", end_key="site:\ufff0")["rows"]
    except NotFound:
        return []
    return [r["doc"] for r in rows if r.get("doc", {}).get("type") == "site"]
