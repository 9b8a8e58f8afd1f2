"""Run the real design-document JavaScript (compiled as deploy compiles it) under node."""
from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

from couch_design.deploy import HERE, compile_design, design_folders

HARNESS = Path(__file__).parent / "js" / "run_design.js"


@functools.cache
def ddoc() -> dict:
    return compile_design(HERE / "oms")


@functools.cache
def ddoc_of(view: str) -> dict:
    """The compiled design document that holds `view` (the orders views live in several)."""
    for folder in design_folders():
        compiled = compile_design(folder)
        if view in compiled.get("views", {}):
            return compiled
    raise KeyError(f"no design document holds the view {view}")


def run(cases: list[dict], design: dict | None = None) -> list[dict]:
    node = shutil.which("node")
    if not node:
        raise RuntimeError("node is needed to run the design documents' JavaScript")
    proc = subprocess.run([node, str(HARNESS)], input=json.dumps({"ddoc": design or ddoc(), "cases": cases}),
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout)


def validate(new_doc, old_doc, name: str | None, roles: list[str]) -> dict:
    return run([{"kind": "validate", "newDoc": new_doc, "oldDoc": old_doc,
                 "userCtx": {"name": name, "roles": roles, "db": "orders"}}])[0]


def map_doc(view: str, doc: dict) -> list[list]:
    """[[key, value], ...] that the real map.js of `view` emits for `doc`."""
    res = run([{"kind": "map", "view": view, "doc": doc}], ddoc_of(view))[0]
    if not res.get("ok"):
        raise RuntimeError(res)
    return res["emitted"]


def reduce_values(view: str, values: list, rereduce: bool = False):
    res = run([{"kind": "reduce", "view": view, "values": values, "rereduce": rereduce}], ddoc_of(view))[0]
    if not res.get("ok"):
        raise RuntimeError(res)
    return res["value"]
