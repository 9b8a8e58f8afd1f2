"""What every benchmark shares: a fresh stack (embedded PouchDB Server + demo slapd, or
COUCHDB_URL when set), the app under gunicorn on a free port, timing helpers, and the report
format: one line per measure (app figure, raw-server figure, ratio, target) and, last, one JSON
object with every ratio."""
from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from oms import runtime
from oms.config import Settings
from oms.embedded import free_port

TINY = os.environ.get("OMS_BENCH_SIZE", "full") == "tiny"


def size(full: int, tiny: int) -> int:
    return tiny if TINY else full


@contextlib.contextmanager
def fresh_stack():
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
        settings = Settings.from_env().with_(data_dir=Path(tmp), db_name=f"bench_{uuid.uuid4().hex[:6]}",
                                             secret_key=f"bench-{uuid.uuid4().hex}")
        stack = runtime.start(settings, progress=lambda *_: None, supervise=False)
        try:
            yield stack
        finally:
            stack.close()


@contextlib.contextmanager
def app_server(settings: Settings, workers: int = 1):
    """The app as production runs it (gunicorn, gthread; `oms serve`'s default of one worker), on a
    free loopback port."""
    port = free_port()
    env = {**os.environ, **settings.with_(port=port).to_env()}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "--worker-class", "gthread", "--threads", "8",
                             "--log-level", "warning", "webapp.wsgi:app"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/login", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError("the app did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def percentile(values, p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def median(values) -> float:
    return statistics.median(values)


class Report:
    def __init__(self):
        self.ratios: dict[str, float] = {}

    def line(self, name: str, app: float, raw: float, unit: str, ratio: float, target: str) -> None:
        self.ratios[name] = round(ratio, 3)
        print(f"{name:<34} app {app:>10.1f} {unit:<8} raw {raw:>10.1f} {unit:<8} ratio {ratio:6.2f}  (target {target})",
              flush=True)

    def note(self, text: str) -> None:
        print(f"  {text}", flush=True)

    def finish(self) -> None:
        print(json.dumps(self.ratios), flush=True)
