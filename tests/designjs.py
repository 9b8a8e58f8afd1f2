"""Run the real design-document JavaScript (compiled as deploy compiles it) under node."""
from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import threading
from pathlib import Path

from couch_design.deploy import HERE, compile_design, design_folders

HARNESS = Path(__file__).parent / "js" / "run_design.js"


@functools.cache
def ddoc() -> dict:
    return compile_design(HERE / "oms")


@functools.cache
def _designs() -> tuple[dict, ...]:
    return tuple(compile_design(folder) for folder in design_folders())


def ddoc_of(view: str) -> dict:
    """The compiled design document that holds `view` (the views live in several)."""
    for compiled in _designs():
        if view in compiled.get("views", {}):
            return compiled
    raise KeyError(f"no design document holds the view {view}")


_harness_lock = threading.Lock()
_harness: list[subprocess.Popen] = []   # the one node process this test process keeps


def _serving() -> subprocess.Popen:
    """The harness (node, --serve), started on first use and again if it ended."""
    if not _harness or _harness[0].poll() is not None:
        node = shutil.which("node")
        if not node:
            raise RuntimeError("node is needed to run the design documents' JavaScript")
        proc = subprocess.Popen([node, str(HARNESS), "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, bufsize=1)
        atexit.register(proc.kill)
        _harness[:] = [proc]
    return _harness[0]


def run(cases: list[dict], design: dict | None = None) -> list[dict]:
    request = json.dumps({"ddoc": design or ddoc(), "cases": cases})
    with _harness_lock:
        proc = _serving()
        proc.stdin.write(request + "\n")
        proc.stdin.flush()
        answer = proc.stdout.readline()
    if not answer:
        raise RuntimeError(proc.stderr.read())
    return json.loads(answer)


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
