"""Design documents for the replicas, compiled from couch_design/ like the central one:
`_design/partner` for a partner's database (couch_design/partner, with the partner's id) and
`_design/site` for a branch office's database (couch_design/site). Neither folder has an `_id`
file, so `oms deploy` never pushes them into the central database."""
from __future__ import annotations

import json
from pathlib import Path

from couch_design.deploy import HERE, compile_design, push
from oms.core.namespace import Namespace
from oms.core.rules import load_rules

PARTNER = HERE / "partner"
SITE = HERE / "site"
SHARED_LIB = HERE / "oms" / "lib"


def _compile(folder: Path, ddoc_id: str, lib_extra: dict, shared: tuple[str, ...], namespace: Namespace) -> dict:
    lib = {name: (SHARED_LIB / f"{name}.js").read_text().strip() for name in shared}
    lib["replication_rules"] = "module.exports = " + json.dumps(load_rules()["replication"]) + ";"
    lib.update(lib_extra)
    return compile_design(folder, ddoc_id, lib, namespace)


def partner_design(partner_id: str, namespace: Namespace = Namespace()) -> dict:
    config = "module.exports = " + json.dumps({"id": partner_id}) + ";"
    return _compile(PARTNER, "_design/partner", {"partner_config": config}, ("revisions", "desk"), namespace)


def site_design(namespace: Namespace = Namespace()) -> dict:
    return _compile(SITE, "_design/site", {}, ("desk",), namespace)


def push_design(db, ddoc: dict) -> str:
    """'created', 'updated' or 'unchanged' (couch_design.deploy.push; no staging needed: these
    databases are small and their views build on first use)."""
    return push(db, ddoc, progress=lambda *_: None)
