"""Run the real design-document JavaScript (compiled as deploy compiles it) under node."""
from __future__ import annotations

import atexit
import functools
import json
import queue
import shutil
import subprocess
import threading
from pathlib import Path

from couch_design.deploy import compile_design, design_folders

HARNESS = Path(__file__).parent / "js" / "run_design.js"


@functools.cache
def _designs() -> tuple[dict, ...]:
    return tuple(compile_design(folder) for folder in design_folders())


def ddoc() -> dict:
    return next(d for d in _designs() if d["_id"] == "_design/oms")


def ddoc_of(view: str) -> dict:
    """The compiled design document that holds `view` (the views live in several)."""
    for compiled in _designs():
        if view in compiled.get("views", {}):
            return compiled
    raise KeyError(f"no design document holds the view {view}")


TIMEOUT = 60   # seconds a request may take: a design function that never returns fails its test
_harness_lock = threading.Lock()
_harness: list[tuple[subprocess.Popen, queue.Queue]] = []   # the one node process this test process keeps


def _serving() -> tuple[subprocess.Popen, queue.Queue]:
    """The harness (node, --serve) and its answers as they come, started on first use and again
    if it ended."""
    if not _harness or _harness[0][0].poll() is not None:
        node = shutil.which("node")
        if not node:
            raise RuntimeError("node is needed to run the design documents' JavaScript")
        proc = subprocess.Popen([node, str(HARNESS), "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, bufsize=1)
        atexit.register(proc.kill)
        answers: queue.Queue = queue.Queue()
        threading.Thread(target=_read_answers, args=(proc, answers), daemon=True).start()
        _harness[:] = [(proc, answers)]
    return _harness[0]


def _read_answers(proc: subprocess.Popen, answers: queue.Queue) -> None:
    for line in iter(proc.stdout.readline, ""):
        answers.put(line)
    answers.put("")   # the harness ended


def run(cases: list[dict], design: dict | None = None) -> list[dict]:
    request = json.dumps({"ddoc": design or ddoc(), "cases": cases})
    with _harness_lock:
        proc, answers = _serving()
        proc.stdin.write(request + "\n")
        proc.stdin.flush()
        try:
            answer = answers.get(timeout=TIMEOUT)
        except queue.Empty:
            proc.kill()
            proc.wait()   # (ended, so the next request starts a harness afresh)
            raise RuntimeError(f"the design documents' JavaScript did not answer within {TIMEOUT} s") from None
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
