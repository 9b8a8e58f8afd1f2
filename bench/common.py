"""What every benchmark shares: a fresh stack (embedded PouchDB Server + demo slapd, or
COUCHDB_URL when set), the app under gunicorn on a free port, timing helpers, what a raw client
of a cluster asks for (write quorum, waiting out an index build), and the report format: one line
per measure (app figure, raw-server figure, ratio, target) and, last, one JSON object with every
ratio."""
from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import requests

from oms.core.config import Settings, scratch_secret
from oms.devstack import runtime
from oms.devstack.embedded import free_port
from oms.store.couch import CouchServer, Unavailable

TINY = os.environ.get("OMS_BENCH_SIZE", "full") == "tiny"


def size(full: int, tiny: int) -> int:
    return tiny if TINY else full


class ScratchCouch:
    """The server a one-off benchmark seeds at scale: COUCHDB_URL's (its admin), or a PouchDB
    Server of its own in a temporary folder; close() stops and removes what it started."""

    def __init__(self, prefix: str):
        env = Settings.from_env()
        self.embedded, self._tmp = None, None
        if env.couchdb_url:
            self.url, self.user, self.password = env.couchdb_url, env.couchdb_user, env.couchdb_password
            self.kind = "COUCHDB_URL"
        else:
            import secrets

            from oms.devstack.embedded import EmbeddedCouch
            self._tmp = tempfile.TemporaryDirectory(prefix=f"{prefix}-")
            self.user, self.password = "bench_admin", secrets.token_urlsafe(16)
            print("starting PouchDB Server ...", flush=True)
            self.embedded = EmbeddedCouch(Path(self._tmp.name) / "couch", self.user, self.password).start()
            self.url, self.kind = self.embedded.url, "PouchDB Server 4.2.0 (embedded)"

    def close(self, *databases: str) -> None:
        """Drop `databases` (best effort: the numbers are printed whatever happens) and stop."""
        for name in databases:
            try:
                CouchServer(self.url, self.user, self.password).request("DELETE", f"/{name}")
            except Exception:  # noqa: BLE001
                pass
        if self.embedded:
            self.embedded.stop()
        if self._tmp:
            self._tmp.cleanup()


def shared_server() -> bool:
    """Is the bench pointed at a server of someone's (COUCHDB_URL) rather than one of its own?"""
    return bool(Settings.from_env().couchdb_url)


def drop_databases(server: CouchServer, names) -> None:
    """Delete the databases a bench made on a shared server (a missing one is fine)."""
    for name in names:
        try:
            server.request("DELETE", f"/{name}")
        except Exception:
            pass


@contextlib.contextmanager
def fresh_stack(prefix: str = "bench"):
    """A fresh database of the bench's own (and the embedded servers, unless COUCHDB_URL is
    set); on a shared server the database is deleted at the end."""
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
        env = Settings.from_env()
        settings = env.with_(data_dir=Path(tmp), db_name=f"{prefix}_{uuid.uuid4().hex[:6]}",
                             secret_key=scratch_secret(env))
        stack = runtime.start(settings, progress=lambda *_: None, supervise=False)
        try:
            yield stack
        finally:
            if stack.couch is None:
                drop_databases(stack.server(), [stack.settings.db_name])
            stack.close()


def copies(settings: Settings) -> int:
    """Copies the server keeps of each document of the bench's database: a cluster's n, else 1."""
    server = CouchServer(settings.couchdb_url, settings.couchdb_user, settings.couchdb_password)
    return server.admin(settings.db_name).copies()


def raw_quorums(settings: Settings) -> dict[str, dict]:
    """The ways a raw client writes, by label: the server's default quorum (CouchDB's w=2 of 3 on a
    cluster, what a client that names no `w` gets) and, on a cluster, every copy (w=n), which is
    how the app writes (oms/store/couch.py) and so the like-for-like raw figure. One way, "raw", on a
    single copy."""
    n = copies(settings)
    if n == 1:
        return {"raw": {}}
    return {"raw": {}, f"raw_w{n}": {"w": str(n)}}


def like_for_like(quorums: dict[str, dict]) -> str:
    """The raw side the app's figure is compared with: the one that writes as the app does."""
    return next(k for k in quorums if k != "raw") if len(quorums) > 1 else "raw"


def wait_for_index(server: CouchServer, db_name: str, ddoc: str, view: str, progress=print,
                   **query) -> float:
    """Seconds until the view answers with its index built. A cluster answers a query that
    waits longer than its request timeout with a 500 (timeout) while the index goes on building,
    so a timeout here is asked again; the shards' other copies, which the cluster builds in the
    background once asked, are waited for too (_active_tasks), so that no timed query competes
    with an index build."""
    t0 = time.perf_counter()
    path = f"/{db_name}/_design/{ddoc}/_view/{view}"
    while True:
        try:
            server.request("GET", path, params={"limit": "0", **query})
            break
        except Unavailable:
            progress(f"  still building {ddoc}/{view} ({time.perf_counter() - t0:.0f} s) ...")
    wait_for_indexers(server, db_name)
    return time.perf_counter() - t0


def wait_for_indexers(server: CouchServer, db_name: str, most: float = 3600) -> float:
    """Seconds until the server builds no index of `db_name` (its shards' indexer tasks, on a
    cluster; PouchDB Server lists none)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < most:
        try:
            tasks = server.request("GET", "/_active_tasks") or []
        except Exception:
            return time.perf_counter() - t0
        if not any(t.get("type") == "indexer" and _of(t.get("database", ""), db_name) for t in tasks):
            break
        time.sleep(0.5)
    return time.perf_counter() - t0


def settle(server: CouchServer, db_name: str, progress=lambda *_: None) -> float:
    """Seconds until every index of `db_name` has taken in every write so far. A CouchDB 3
    server indexes each design document in the background a little after writes (its `ken`),
    one process per design document and shard copy, and a query waits for its index to catch
    up: a timed pass that starts while what the pass before it wrote is still to be indexed
    pays for that, so each timed pass starts here. One query per design document builds its
    index (on either engine), then the other copies' builds are waited for."""
    t0 = time.perf_counter()
    ddocs = server.request("GET", f"/{db_name}/_all_docs",
                           params={"startkey": '"_design/"', "endkey": '"_design0"', "include_docs": "true"})
    for row in ddocs["rows"]:
        views = sorted((row.get("doc") or {}).get("views") or {})
        if views:
            wait_for_index(server, db_name, row["id"].split("/", 1)[1], views[0], progress)
    wait_for_indexers(server, db_name)
    return time.perf_counter() - t0


def _of(shard: str, db_name: str) -> bool:
    """Is `shard` (shards/<range>/<db>.<suffix>, or a database name) one of `db_name`'s?"""
    base = shard.rsplit("/", 1)[-1]
    return base == db_name or base.rsplit(".", 1)[0] == db_name


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
    _APPS[url] = proc.pid
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
        _APPS.pop(url, None)
        proc.terminate()
        proc.wait(15)


_APPS: dict[str, int] = {}   # app URL -> its gunicorn master's pid


def app_cpu_ms(url: str) -> float:
    """CPU milliseconds the app at `url` has used: gunicorn's master and its worker processes."""
    master = _APPS[url]
    try:
        children = [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        children = []
    return server_cpu_ms([master, *children])


def server_pids(stack) -> list[int]:
    """The processes of the server under test: the embedded one, else those listening on the
    ports of COUCHDB_URL and OMS_COUCHDB_NODES (a cluster's nodes) on this machine (none when the
    server is elsewhere)."""
    if stack.couch is not None:
        return [stack.couch.proc.pid]
    urls = [stack.settings.couchdb_url, *filter(None, os.environ.get("OMS_COUCHDB_NODES", "").split(","))]
    ports = {urlsplit(u.strip()).port for u in urls}
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout.splitlines()
    pids = set()
    for line in listening:
        fields = line.split()
        port = fields[3].rsplit(":", 1)[-1] if len(fields) > 3 else ""
        if port.isdigit() and int(port) in ports:
            pids.update(int(p) for p in re.findall(r"pid=(\d+)", line))
    return sorted(pids)


def server_cpu_ms(pids) -> float:
    """CPU milliseconds (user + system) the process(es) have used."""
    total = 0
    for pid in [pids] if isinstance(pids, int) else pids:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total * 1000 / os.sysconf("SC_CLK_TCK")


class ServerMeter:
    """What the server did for one side of a measure: its CPU (the processes of server_pids, all
    of a cluster's nodes when OMS_COUCHDB_NODES names them) and, on CouchDB, the HTTP requests its
    node answered (`_node/_local/_stats` of COUCHDB_URL's node, which every request of the bench
    and of the app goes to). Each figure is None where it cannot be read."""

    def __init__(self, stack):
        self.pids = server_pids(stack)
        self.server = stack.server()

    def read(self) -> dict:
        out = {"cpu_ms": server_cpu_ms(self.pids) if self.pids else None, "requests": None}
        try:
            out["requests"] = self.server.request("GET", "/_node/_local/_stats/couchdb/httpd/requests")["value"]
        except Exception:
            pass
        return out

    @staticmethod
    def per(before: dict, after: dict, n: int) -> dict:
        """Each figure's growth from `before` to `after`, divided by n; the requests less the one
        the meter's own read made."""
        own = {"requests": 1}
        return {k: (after[k] - before[k] - own.get(k, 0)) / n if after[k] is not None and before[k] is not None
                else None for k in before}


def percentile(values, p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def median_ms(fn, repeat: int) -> float:
    """The median of `repeat` timed calls of `fn`, in milliseconds, after one warming call
    (connection, caches)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


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


def products(skus, eur_cents: int = 450) -> list[dict]:
    """Catalog products for the SKUs a benchmark orders, so every order is priced and taxed as
    the desk prices it (a list price in EUR, the standard tax class)."""
    return [{"_id": f"product:{sku}", "type": "product", "sku": sku, "description": f"Bench product {sku}",
             "unit": "each", "list_prices": {"EUR": eur_cents}, "tax_class": "standard", "status": "active"}
            for sku in skus]
