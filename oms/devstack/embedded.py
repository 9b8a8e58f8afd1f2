"""The embedded CouchDB-API server: PouchDB Server (npm pouchdb-server, pinned in package.json).

Started when COUCHDB_URL is unset, on 127.0.0.1 only: it is a single-machine server
(docs/embedded-server.md). Its patched process logs an uncaught error and keeps serving; it can
still be killed or run out of memory, so `supervise()` restarts it with backoff and logs why;
meanwhile the app answers 503."""
from __future__ import annotations

import json
import logging
import socket
import subprocess
import threading
import time
from pathlib import Path

import requests

from oms.core.config import PROJECT_ROOT

log = logging.getLogger(__name__)

POUCHDB_SERVER = PROJECT_ROOT / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
# Fixes the server needs (patches/, applied by `make install`): without them replicated updates
# into a validated database are silently dropped, people can raise their own roles, anyone can
# walk around the security objects (a _replicator document, _find, _bulk_get, a write of
# _local/_security), one anonymous request makes the server exit; and (costs) design functions
# are recompiled per document and a filtered _changes reads one document's metadata at a time.
PATCHED = ("pouchdb-validation/lib/index.js", "express-pouchdb/lib/routes/documents.js",
           "express-pouchdb/lib/routes/db.js", "express-pouchdb/lib/routes/find.js",
           "pouchdb-replicator/lib/index.js", "couchdb-eval/lib/index.js", "pouchdb-mapreduce/lib/index.js",
           "pouchdb-adapter-leveldb-core/lib/index.js", "pouchdb-security/lib/index.js",
           "pouchdb-abstract-mapreduce/lib/index.js", "pouchdb-server/lib/index.js",
           "pouchdb-system-db/lib/index.js", "pouchdb-auth/lib/sessionapi.js",
           "express-pouchdb/lib/routes/authentication.js", "express-pouchdb/lib/routes/session.js")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedCouch:
    def __init__(self, data_dir: Path, admin_user: str, admin_password: str, port: int | None = None):
        self.dir = Path(data_dir)
        self.admin_user, self.admin_password = admin_user, admin_password
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self.restarts = 0

    # -- process ---------------------------------------------------------------------------------
    def _spawn(self) -> None:
        if not POUCHDB_SERVER.exists():
            raise RuntimeError(f"{POUCHDB_SERVER} is missing: run `make install` (npm ci) first")
        for rel in PATCHED:
            if "Order Desk patch" not in (PROJECT_ROOT / "node_modules" / rel).read_text():
                raise RuntimeError(f"node_modules/{rel} lacks the patches in patches/: run `make install`")
        self.dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.dir / "server.log", "ab")
        self.proc = subprocess.Popen(
            ["node", str(POUCHDB_SERVER), "--host", "127.0.0.1", "--port", str(self.port),
             "--dir", str(self.dir), "--config", str(self.dir / "config.json"), "--no-stdout-logs"],
            cwd=self.dir, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"PouchDB Server exited at start: {self.log_tail()}")
            try:
                if requests.get(self.url + "/", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"PouchDB Server did not answer within {timeout}s: {self.log_tail()}")

    def log_tail(self, n: int = 2000) -> str:
        path = self.dir / "server.log"
        return path.read_bytes()[-n:].decode(errors="replace") if path.exists() else ""

    def _ensure_admin(self) -> None:
        """First start: create the server admin (PUT /_config/admins/NAME, password as a JSON
        string). Later starts find it in config.json; the demo keeps its password in data/."""
        auth = (self.admin_user, self.admin_password)
        if requests.get(self.url + "/_session", auth=auth, timeout=5).json().get("userCtx", {}).get("name"):
            return
        r = requests.put(f"{self.url}/_config/admins/{self.admin_user}",
                         data=json.dumps(self.admin_password), timeout=10)
        if r.status_code == 401:
            raise RuntimeError("the embedded server already has another admin: its data folder "
                               f"{self.dir} belongs to other credentials")
        r.raise_for_status()

    def start(self) -> "EmbeddedCouch":
        self._spawn()
        self._ensure_admin()
        return self

    # -- supervision -----------------------------------------------------------------------------
    def supervise(self) -> None:
        """Restart the server whenever it dies (backoff 1 s doubling to 30 s), until stop()."""
        def loop():
            backoff = 1.0
            while not self._stopping.is_set():
                code = self.proc.wait()
                if self._stopping.is_set():
                    return
                log.error("PouchDB Server exited with %s; restarting in %.0fs. Last log:\n%s",
                          code, backoff, self.log_tail(800))
                if self._stopping.wait(backoff):
                    return
                try:
                    self._spawn()
                    self.restarts += 1
                    backoff = 1.0
                except RuntimeError as exc:
                    log.error("restart failed: %s", exc)
                    backoff = min(backoff * 2, 30)
        self._supervisor = threading.Thread(target=loop, name="pouchdb-supervisor", daemon=True)
        self._supervisor.start()

    def kill(self) -> None:
        """Kill the server abruptly (fault tests); the supervisor, if any, brings it back."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()

    def stop(self) -> None:
        self._stopping.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
