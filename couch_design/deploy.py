"""Compile couch_design/<ddoc>/ folders (couchapp layout) into design documents and push them.

- rules/*.json are embedded as CommonJS modules lib/<name>_rules, so validate_doc_update reads the
  very same rulebook as Python (oms/core/rules.py): never two hand-kept copies.
- Redeploying an unchanged design writes nothing.
- A changed view is staged first as _design/<name>-staging (views only) and queried until its
  index is built; then the real design is written. Both servers key view indexes by the view's
  code (CouchDB 3 by signature, PouchDB by a hash of map/reduce), so the swap reuses the built
  index and queries never wait on a full reindex."""
from __future__ import annotations

import json
from pathlib import Path

from oms.core.namespace import Namespace
from oms.core.rules import load_rules

HERE = Path(__file__).resolve().parent


def compile_design(folder: Path, ddoc_id: str | None = None, lib: dict[str, str] | None = None,
                   namespace: Namespace = Namespace()) -> dict:
    """One folder (couchapp layout) as a design document. `ddoc_id` for a folder without an `_id`
    file; `lib` replaces the folder's lib/*.js and the rulebook (the replicas' designs carry only
    the modules they need). `namespace`: the desk's prefix, which validate_doc_update takes off
    the writer's name and roles (lib/desk)."""
    folder = Path(folder)
    ddoc: dict = {"_id": ddoc_id or (folder / "_id").read_text().strip(), "language": "javascript"}
    vdu = folder / "validate_doc_update.js"
    if vdu.exists():
        ddoc["validate_doc_update"] = vdu.read_text().strip()
    views = {}
    from .viewsrc import expand, view_rules  # shared view helpers + derived rules, inlined
    vrules = view_rules(load_rules()["workflow"], load_rules()["priority"])
    for view_dir in sorted(p for p in (folder / "views").glob("*") if p.is_dir()):
        view = {"map": expand((view_dir / "map.js").read_text().strip(), folder, vrules)}
        if (view_dir / "reduce.js").exists():
            view["reduce"] = expand((view_dir / "reduce.js").read_text().strip(), folder, vrules)
        views[view_dir.name] = view
    if views:
        ddoc["views"] = views
    filters = {p.stem: p.read_text().strip() for p in sorted((folder / "filters").glob("*.js"))}
    if filters:
        ddoc["filters"] = filters
    if lib is None:
        lib = {p.stem: p.read_text().strip() for p in sorted((folder / "lib").glob("*.js"))}
        for name, rules in load_rules().items():
            lib[f"{name}_rules"] = "module.exports = " + json.dumps(rules) + ";"
    if vdu.exists():
        lib = {**lib, "desk_namespace": namespace.design_lib()}
    if lib:
        ddoc["lib"] = lib
    return ddoc


def design_folders() -> list[Path]:
    return sorted(p for p in HERE.iterdir() if (p / "_id").exists())


def _same(current: dict | None, compiled: dict) -> bool:
    if current is None:
        return False
    return {k: v for k, v in current.items() if k != "_rev"} == compiled


def push(db, compiled: dict, progress=print) -> str:
    """Write one design document through `db` (an admin oms.store.couch.Database). Returns what happened:
    'unchanged', 'created' or 'updated'."""
    current = db.get_or_none(compiled["_id"])
    if _same(current, compiled):
        return "unchanged"
    if current is not None and current.get("views") != compiled.get("views") and compiled.get("views"):
        _build_staged(db, compiled, progress)
    doc = dict(compiled)
    if current is not None:
        doc["_rev"] = current["_rev"]
    db.save(doc)
    return "created" if current is None else "updated"


def _build_staged(db, compiled: dict, progress) -> None:
    name = compiled["_id"][len("_design/"):] + "-staging"
    staging = {"_id": f"_design/{name}", "language": "javascript", "views": compiled["views"]}
    old = db.get_or_none(staging["_id"])
    if old:
        staging["_rev"] = old["_rev"]
    db.save(staging)
    for view in compiled["views"]:
        progress(f"  building index {name}/{view} ...")
        # reduce=False: building is enough; a reduce over a whole large view costs seconds on PouchDB.
        db.view(name, view, limit=1, **({"reduce": False} if "reduce" in compiled["views"][view] else {}))
    db.delete(staging["_id"], db.get(staging["_id"])["_rev"])


def security_object(acl_rules: dict, namespace: Namespace = Namespace()) -> dict:
    """_security from the rulebook: every level from Depositor up is a member (CouchDB cannot be
    write-only, so Depositors' reads are hidden by the app); Managers and Designers administer
    the database (design documents), as in Notes. Roles are the desk's (`namespace`)."""
    prefix = namespace.role(acl_rules["level_role_prefix"])
    levels = acl_rules["levels"]
    members = [prefix + lvl for lvl in levels[levels.index("depositor"):]]
    return {"admins": {"names": [], "roles": [prefix + "manager", prefix + "designer"]},
            "members": {"names": [], "roles": members}}


# Design documents this project no longer ships. Deploy removes them from a database deployed
# before: a design document left behind keeps its views indexing and, worse, its
# validate_doc_update judging every write.
RETIRED = ("_design/integration",)


def deploy(db, progress=print, namespace: Namespace = Namespace()) -> dict[str, str]:
    """Create the database if needed, push every design (and remove the retired ones) and the
    security object, seed the ACL document. Idempotent. Returns {what: outcome}. `namespace`: the
    desk's names on the server (Settings.namespace)."""
    rules = load_rules()
    outcome = {"database": "created" if db.create() else "exists"}
    for folder in design_folders():
        compiled = compile_design(folder, namespace=namespace)
        outcome[compiled["_id"]] = push(db, compiled, progress)
    for ddoc_id in RETIRED:
        old = db.get_or_none(ddoc_id)
        if old is not None:
            db.delete(ddoc_id, old["_rev"])
            outcome[ddoc_id] = "removed"
            progress(f"{ddoc_id}: removed (no longer part of the design)")
    wanted = security_object(rules["acl"], namespace)
    current = db.get_security()
    if {k: current.get(k) for k in ("admins", "members")} != wanted:
        db.put_security(wanted)
        outcome["_security"] = "updated"
    else:
        outcome["_security"] = "unchanged"
    if db.get_or_none("acl") is None:
        db.save({"_id": "acl", "type": "acl", "entries": rules["acl"]["default_entries"]})
        outcome["acl"] = "created"
    else:
        outcome["acl"] = "unchanged"
    return outcome
