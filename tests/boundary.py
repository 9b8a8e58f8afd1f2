"""Helpers of the boundary tests (tests/integration/test_server_boundary.py and
tests/integration/replication/test_partner_boundary.py): snapshots of databases by ids and
revisions, a bounded watch for anything an attack's replication might still deliver, and raw
requests as nobody or as a person."""
from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
import requests

WATCH = 4.0          # seconds an attack's replication gets to deliver something
REFUSED = (401, 403)


# A person or replication of another desk on the same server ("<desk>~...": another test run
# sharing it, oms/core/namespace.py) changes whenever that run works: not the attack's doing.
OTHER_DESK = re.compile(r"^(?:org\.couchdb\.user:)?([a-z][a-z0-9_]{0,39})~")


class Snapshot(dict):
    """{db: {id: rev}}, and the desk whose documents it watches in the server's databases."""
    desk = ""


def revs(server, db: str, desk: str = "") -> dict[str, str]:
    """{id: rev} of every document of `db` (design documents included) but other desks', read
    as the admin."""
    rows = server.request("GET", f"/{quote(db, safe='')}/_all_docs")["rows"]
    return {r["id"]: r["value"]["rev"] for r in rows
            if not ((m := OTHER_DESK.match(r["id"])) and m.group(1) != desk)}


def databases(server) -> set[str]:
    return set(server.request("GET", "/_all_dbs"))


def snapshot(server, dbs, desk: str = "") -> Snapshot:
    out = Snapshot({db: revs(server, db, desk) for db in dbs})
    out.desk = desk
    return out


def settled_snapshot(server, dbs, desk: str = "", quiet: float = 1.0, timeout: float = 30.0) -> Snapshot:
    """A snapshot once nothing changed for `quiet` seconds (a continuous replication from an
    earlier test may still be delivering)."""
    deadline = time.monotonic() + timeout
    last = snapshot(server, dbs, desk)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = snapshot(server, dbs, desk)
        if now == last:
            return now
        last = now
    pytest.fail(f"the databases {sorted(dbs)} kept changing for {timeout}s before the attack")


def nothing_arrives(server, before: Snapshot, absent=(), seconds: float = WATCH) -> None:
    """Watch `seconds` for a change to the snapshotted databases or for any of `absent` to be
    created; fail at the first sign of either."""
    deadline = time.monotonic() + seconds
    while True:
        created = sorted(set(absent) & databases(server))
        assert not created, f"an attack created {created}"
        now = snapshot(server, before, before.desk)
        assert now == before, f"an attack changed a database: {changes(before, now)}"
        if time.monotonic() >= deadline:
            return
        time.sleep(0.25)


def changes(before: dict, after: dict) -> dict:
    """{db: {id: (rev before, rev after)}} of what differs between two snapshots."""
    out = {}
    for db in before.keys() | after.keys():
        a, b = before.get(db, {}), after.get(db, {})
        diff = {i: (a.get(i), b.get(i)) for i in a.keys() | b.keys() if a.get(i) != b.get(i)}
        if diff:
            out[db] = diff
    return out


def call(url: str, method: str, path: str, auth=None, **kw) -> requests.Response:
    return requests.request(method, url + path, auth=auth, timeout=15, **kw)


def refused(r: requests.Response, what: str = "") -> None:
    assert r.status_code in REFUSED, f"{what or r.request.method + ' ' + r.request.url}: " \
                                     f"{r.status_code} {r.text[:200]}"


def refused_each(r: requests.Response, what: str) -> None:
    """A _bulk_docs refused as a whole (CouchDB: not a member) or document by document (the
    embedded server checks each document)."""
    if r.status_code in REFUSED:
        return
    assert r.status_code < 300 and all(row.get("error") for row in r.json()), \
        f"{what}: {r.status_code} {r.text[:200]}"


def alive(url: str) -> bool:
    try:
        return requests.get(url + "/", timeout=5).ok
    except requests.RequestException:
        return False
