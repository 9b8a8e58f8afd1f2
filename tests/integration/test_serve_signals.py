"""`oms serve` stopped by a service manager (SIGTERM) or a closed terminal (SIGHUP) stops what it
started, as Ctrl-C does: the embedded PouchDB Server, slapd, gunicorn. Nothing lives on."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from oms.devstack.embedded import free_port


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_serve_stops_everything_it_started_on_a_signal(tmp_path, sig):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("COUCHDB_URL", "LDAP_URL", "COUCHDB_USER",
                                                           "COUCHDB_PASSWORD", "OMS_DB")}
    env.update(OMS_DATA_DIR=str(tmp_path), OMS_PORT=str(port), SECRET_KEY="signal-test-secret")
    proc = subprocess.Popen([sys.executable, "-m", "oms.cli", "serve", "--no-agents", "--workers", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/login", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            pytest.fail("oms serve did not come up")
        started |= descendants(proc.pid)
        assert len(started) >= 3   # PouchDB Server, slapd, gunicorn (and its worker)
        proc.send_signal(sig)
        assert proc.wait(60) == 0 or proc.returncode is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(p) for p in started):
            time.sleep(0.2)
        assert not [p for p in started if alive(p)], "processes left running after the signal"
        with pytest.raises(requests.RequestException):
            requests.get(f"http://127.0.0.1:{port}/login", timeout=1)
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in started | descendants(proc.pid):   # orphans too, should the test fail
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
