"""The database server's boundary, attacked from outside the app: anonymous requests on loopback and
people with their own CouchDB identity (a Reader, a Manager). Each attack must be refused, the
server must still answer, and the central database, `_users` and `_replicator` must hold exactly
what they held before (ids and revisions). Runs on whichever engine the suite uses, with the same
outcome: CouchDB 3.5's defaults are the reference (docs/embedded-server.md).

Replication is asynchronous: after an attempt, each test watches for a bounded time (WATCH
seconds) for anything to arrive before it asserts that nothing did."""
from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from oms.identity import people
from tests.boundary import (
    WATCH,
    alive,
    call,
    changes,
    databases,
    nothing_arrives,
    refused,
    refused_each,
    revs,
    settled_snapshot,
    snapshot,
)

# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def url(settings) -> str:
    return settings.couchdb_url.rstrip("/")


@pytest.fixture(scope="module")
def central(settings) -> str:
    return settings.db_name


@pytest.fixture(scope="module")
def callers(person, seeded, settings):
    """(label, auth) of each attacker: nobody, a Reader, a Manager (an admin of the central
    database, not of the server)."""
    out = [("anonymous", None)]
    for name in ("rita", "mia"):
        person(name)
        out.append((name, (settings.namespace.user(name), people.couch_password(settings.secret_key, name))))
    return out


@pytest.fixture
def guarded(server, central, url, settings):
    """The snapshot of central, _users and _replicator before a test; after it, the server must
    answer and hold exactly that."""
    dbs = (central, "_users", "_replicator")
    before = settled_snapshot(server, dbs, settings.desk)
    yield before
    assert alive(url), "the server stopped answering"
    after = snapshot(server, dbs, settings.desk)
    assert after == before, f"a database changed: {changes(before, after)}"


def loot_name(settings, what: str) -> str:
    # the suite's prefix: a database an attack did create is removed with the run's databases
    return f"{settings.db_name}_loot_{what}_{uuid.uuid4().hex[:6]}"


# -- replication ------------------------------------------------------------------------------------

def test_nobody_but_the_server_admin_writes_a_replicator_document(
        server, settings, url, central, callers, guarded):
    """Copy the central database (restricted orders included), _users (password hashes) or
    _replicator (replication passwords) into a new database, by local name or by URL, with
    any user_ctx: every write to _replicator is refused, and nothing is copied."""
    loot = {src: loot_name(settings, src.strip("_")) for src in (central, "_users", "_replicator")}
    for label, auth in callers:
        name = auth[0] if auth else None
        for src, target in loot.items():
            specs = [
                {"source": src, "target": target},
                {"source": src, "target": target, "user_ctx": {"name": name, "roles": []}},
                {"source": src, "target": target, "user_ctx": {"name": name}},
                {"source": {"url": f"{url}/{quote(src, safe='')}", "headers": {}},
                 "target": {"url": f"{url}/{target}", "headers": {}},
                 "create_target": True, "user_ctx": {"name": name, "roles": []}},
                {"source": src, "target": target, "user_ctx": {"name": name, "roles": ["_admin"]}},
            ]
            if auth:   # with the person's own roles, as CouchDB lets a user name themselves
                roles = server.admin("_users").get(f"org.couchdb.user:{name}")["roles"]  # name: as CouchDB knows them
                specs.append({"source": src, "target": target, "user_ctx": {"name": name, "roles": roles}})
            for i, spec in enumerate(specs):
                doc_id = f"attack-{label}-{uuid.uuid4().hex[:8]}"
                refused(call(url, "PUT", f"/_replicator/{doc_id}", auth, json=spec),
                        f"{label} writing _replicator spec {i} from {src}")
                refused(call(url, "POST", "/_replicator", auth, json=dict(spec, _id=doc_id + "p")),
                        f"{label} posting _replicator spec {i} from {src}")
            refused_each(call(url, "POST", "/_replicator/_bulk_docs", auth,
                         json={"docs": [dict(specs[1], _id=f"attack-bulk-{uuid.uuid4().hex[:8]}")]}),
                    f"{label} _bulk_docs into _replicator")
    nothing_arrives(server, guarded, absent=loot.values())


def test_nobody_but_the_server_admin_starts_a_replication(server, settings, url, central, callers, guarded):
    loot = loot_name(settings, "replicate")
    for label, auth in callers:
        for spec in ({"source": central, "target": loot, "create_target": True},
                     {"source": "_users", "target": loot, "create_target": True},
                     {"source": f"{url}/{central}", "target": f"{url}/{loot}", "create_target": True}):
            r = call(url, "POST", "/_replicate", auth, json=spec)
            # CouchDB 3 runs a user's replication with their rights (a Reader reads the central
            # database, nobody else's, and no one but an admin creates one); the embedded server
            # runs an admin's only.
            assert r.status_code >= 400, f"{label} replicated {spec['source']}: {r.status_code} {r.text[:200]}"
    nothing_arrives(server, guarded, absent=[loot])


def test_an_edited_copy_replicated_back_does_not_reach_the_central_database(
        server, settings, url, central, callers, guarded):
    """An attacker holding an edited copy of an order (here a public database the admin set up
    for the test, as the first attack left one before) replicates it into the central database:
    the order invoiced, by nobody."""
    forged = loot_name(settings, "forged")
    server.request("PUT", f"/{forged}")
    server.request("PUT", f"/{forged}/_security", json={"admins": {"names": [], "roles": []},
                                                         "members": {"names": [], "roles": []}})
    try:
        order_id = next(i for i in guarded[central] if i.startswith("order:"))
        order = server.admin(central).get(order_id)
        start, parent = order["_rev"].split("-")
        edited = dict(order, status="invoiced", updated_by="nobody", _rev=f"{int(start) + 1}-{'e' * 32}",
                      _revisions={"start": int(start) + 1, "ids": ["e" * 32, parent]})
        server.request("POST", f"/{forged}/_bulk_docs", json={"docs": [edited], "new_edits": False})
        for label, auth in callers:
            name = auth[0] if auth else None
            for spec in ({"source": forged, "target": central, "user_ctx": {"name": name, "roles": []}},
                         {"source": {"url": f"{url}/{forged}", "headers": {}},
                          "target": {"url": f"{url}/{central}", "headers": {}},
                          "user_ctx": {"name": name, "roles": []}}):
                refused(call(url, "PUT", f"/_replicator/attack-back-{uuid.uuid4().hex[:8]}", auth, json=spec),
                        f"{label} replicating back into {central}")
                # CouchDB 3 runs a person's replication with their rights: validate_doc_update
                # refuses each write as it would refuse the person's own. Anonymous: refused.
                r = call(url, "POST", "/_replicate", auth, json={k: v for k, v in spec.items() if k != "user_ctx"})
                if auth is None:
                    refused(r, "anonymous replicating back")
                assert r.status_code < 500, f"{label}: {r.status_code} {r.text[:200]}"
            if label != "mia":   # ... and straight in, with the replicator's own request (a Manager
                # may write orders: what she may change is validate_doc_update's, tested elsewhere)
                refused_each(call(url, "POST", f"/{central}/_bulk_docs", auth,
                                  json={"docs": [edited], "new_edits": False}), f"{label} writing it back")
        nothing_arrives(server, guarded)
        assert server.admin(central).get(order_id)["status"] == order["status"]
    finally:
        server.request("DELETE", f"/{forged}")


def test_a_replication_that_fails_leaves_the_server_running(server, settings, url, central, guarded):
    """The admin's own replications: one whose source refuses it, one that must create its target
    without the right to: each fails, and the server goes on (both made PouchDB Server exit)."""
    target = loot_name(settings, "failing")
    rep = server.admin("_replicator")
    ids = [f"test-failing-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin_source = {"url": f"{url}/{central}",
                    "headers": {"Authorization": requests.auth._basic_auth_str(settings.couchdb_user,
                                                                               settings.couchdb_password)}}
    rep.save({"_id": ids[0], "source": {"url": f"{url}/{central}", "headers": {}}, "target": admin_source})
    rep.save({"_id": ids[1], "source": admin_source, "target": {"url": f"{url}/{target}", "headers": {}},
              "create_target": True})
    try:
        deadline = time.monotonic() + WATCH
        while time.monotonic() < deadline:
            assert alive(url), "the server stopped answering"
            time.sleep(0.25)
        assert target not in databases(server)
    finally:
        for doc_id in ids:
            current = rep.get_or_none(doc_id)
            if current:
                rep.delete(doc_id, current["_rev"])


# -- _users ----------------------------------------------------------------------------------------

def test_users_is_the_server_admins_alone(server, url, callers, guarded, settings):
    """No listing, changes, search or copy of _users, nobody's document (one's own neither: on
    CouchDB 3 _users is admin-only unless an admin opens it), no sign-up, no new roles."""
    other, manager = settings.namespace.user_id("carl"), settings.namespace.role("level:manager")
    for label, auth in callers:
        for method, path, body in (
                ("GET", "/_users", None), ("GET", "/_users/_all_docs", None),
                ("GET", "/_users/_changes", None), ("GET", "/_users/_changes?feed=longpoll&timeout=1000", None),
                ("POST", "/_users/_find", {"selector": {"_id": {"$gt": None}}}),
                ("POST", "/_users/_bulk_get", {"docs": [{"id": other}]}),
                ("POST", "/_users/_all_docs", {"keys": [other]}),
                ("GET", f"/_users/{other}", None), ("GET", "/_users/_security", None),
                ("GET", "/_users/_design/_auth", None), ("GET", "/_users/_index", None),
                ("POST", "/_users/_revs_diff", {other: ["1-" + "0" * 32]})):
            refused(call(url, method, path, auth, json=body), f"{label} {method} {path}")
        if auth:
            refused(call(url, "GET", f"/_users/org.couchdb.user:{auth[0]}", auth), f"{label} reading their own")
            mine = server.admin("_users").get(f"org.couchdb.user:{auth[0]}")
            refused(call(url, "PUT", f"/_users/org.couchdb.user:{auth[0]}", auth,
                         json=dict(mine, roles=mine["roles"] + [manager, "_admin"])),
                    f"{label} raising their own roles")
        for roles in ([], [manager]):
            name = f"signup-{uuid.uuid4().hex[:8]}"
            doc = {"_id": f"org.couchdb.user:{name}", "name": name, "password": "pw", "type": "user",
                   "roles": roles}
            refused(call(url, "PUT", f"/_users/{doc['_id']}", auth, json=doc), f"{label} signing up {roles}")
            refused(call(url, "POST", "/_users", auth, json=doc), f"{label} signing up by POST")
            refused_each(call(url, "POST", "/_users/_bulk_docs", auth, json={"docs": [doc]}),
                    f"{label} signing up by _bulk_docs")
            assert call(url, "GET", "/_session", (name, "pw")).status_code == 401


def test_the_replicator_documents_and_their_passwords_are_the_server_admins(server, url, callers, guarded):
    for label, auth in callers:
        for method, path, body in (
                ("GET", "/_replicator/_all_docs", None), ("GET", "/_replicator/_changes", None),
                ("POST", "/_replicator/_find", {"selector": {"_id": {"$gt": None}}}),
                ("POST", "/_replicator/_bulk_get", {"docs": [{"id": i} for i in guarded["_replicator"]][:5]
                                                    or [{"id": "oms-x"}]}),
                ("GET", "/_replicator/_design/_replicator", None)):
            refused(call(url, method, path, auth, json=body), f"{label} {method} {path}")
        for doc_id in list(guarded["_replicator"])[:5]:
            refused(call(url, "GET", f"/_replicator/{quote(doc_id, safe='')}", auth), f"{label} reading {doc_id}")


# -- the server process ------------------------------------------------------------------------------

def test_no_request_ends_the_server(server, settings, stack, url, central, callers, guarded):
    """Creating and deleting databases is a server admin's; requests that made PouchDB Server
    exit (PUT /anyname: `db.info is not a function`; DELETE /anything: an unhandled rejection)
    are refused, the server still answers, every database is intact, and the admin can still
    create and delete one."""
    dbs_before = databases(server)
    for label, auth in callers:
        for method, path in (("PUT", f"/{loot_name(settings, 'new')}"), ("PUT", "/anyname"),
                             ("DELETE", "/anything"), ("DELETE", f"/{central}"), ("DELETE", "/_users"),
                             ("DELETE", "/_replicator"), ("PUT", f"/{central}"), ("PUT", "/_replicator"),
                             ("DELETE", f"/{central}?rev=1-x")):
            r = call(url, method, path, auth)
            assert 400 <= r.status_code < 500, f"{label} {method} {path}: {r.status_code} {r.text[:200]}"
        refused(call(url, "GET", "/_all_dbs", auth), f"{label} listing databases")
    time.sleep(1.0)   # an unhandled rejection ends the process on the next turn of its loop
    assert alive(url), "the server stopped answering"
    if stack.couch is not None:
        assert stack.couch.proc.poll() is None, f"the server exited: {stack.couch.log_tail(1500)}"
    assert databases(server) == dbs_before
    scratch = loot_name(settings, "scratch")
    server.request("PUT", f"/{scratch}")       # the create/delete queue still works
    server.request("DELETE", f"/{scratch}")
    assert scratch not in databases(server)


def test_a_process_level_guard_logs_and_survives_what_no_route_catches(tmp_path, stack):
    """Whatever error a route or plug-in leaves uncaught, the embedded server logs it and keeps
    serving."""
    if stack.couch is None:
        pytest.skip("the embedded PouchDB Server's own process guard")
    from oms.devstack.embedded import POUCHDB_SERVER, free_port
    lib = (Path(POUCHDB_SERVER).parent.parent / "lib" / "index.js").resolve()
    port = free_port()
    script = f"""
process.argv = [process.argv[0], 'pouchdb-server', '--host', '127.0.0.1', '--port', '{port}',
                '--dir', {str(tmp_path)!r}, '--config', {str(tmp_path / 'config.json')!r}, '--no-stdout-logs'];
require({str(lib)!r});
setTimeout(function () {{ Promise.reject(new Error('boundary test: a rejection nobody handles')); }}, 500);
setTimeout(function () {{ throw new Error('boundary test: thrown in a callback'); }}, 700);
"""
    proc = subprocess.Popen(["node", "-e", script], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not alive(f"http://127.0.0.1:{port}") and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            time.sleep(0.1)
        time.sleep(1.5)
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
        assert alive(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert "a rejection nobody handles" in out and "thrown in a callback" in out


def test_the_embedded_server_listens_on_loopback_only(stack):
    if stack.couch is None:
        pytest.skip("the embedded server's binding; a CouchDB server is bound by whoever runs it")
    port = stack.couch.port
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hexport = local.partition(":")
            if state == "0A" and int(hexport, 16) == port:
                listening.append(address)
    if not listening:
        pytest.skip("no /proc/net/tcp to read the listening address from")
    assert listening == ["0100007F"], f"the embedded server listens on {listening}, not 127.0.0.1 only"


# -- reads ---------------------------------------------------------------------------------------------

def test_no_database_reads_anonymously_and_no_member_rewrites_a_security_object(
        server, settings, url, central, callers, guarded):
    """Every database of this run (and the system databases) refuses every read to nobody; a
    Reader, a member of the central database, cannot change its security object through the
    document API (`_local/_security`, where the embedded server keeps it)."""
    refused(call(url, "GET", "/_all_dbs"), "listing databases")
    ours = sorted(d for d in databases(server) if d.startswith(settings.db_name) or d in ("_users", "_replicator"))
    assert central in ours
    for db in ours:
        some_id = next(iter(revs(server, db)), "acl")
        for method, path, body in (
                ("GET", "", None), ("GET", "/_all_docs", None), ("POST", "/_all_docs", {"keys": [some_id]}),
                ("GET", "/_changes", None), ("GET", "/_changes?include_docs=true&feed=longpoll&timeout=1000", None),
                ("GET", f"/{quote(some_id, safe='')}", None), ("GET", "/_security", None),
                ("POST", "/_find", {"selector": {"_id": {"$gt": None}}}), ("POST", "/_explain", {"selector": {}}),
                ("POST", "/_bulk_get", {"docs": [{"id": some_id}]}), ("GET", "/_index", None),
                ("POST", "/_index", {"index": {"fields": ["status"]}}), ("GET", "/_design_docs", None),
                ("GET", "/_local/_security", None), ("POST", "/_revs_diff", {some_id: ["1-" + "0" * 32]}),
                ("PUT", "/_security", {"members": {"names": [], "roles": []}})):
            refused(call(url, method, f"/{quote(db, safe='')}{path}", json=body), f"anonymous {method} {db}{path}")
        refused_each(call(url, "POST", f"/{quote(db, safe='')}/_bulk_docs",
                          json={"docs": [{"_id": "anon-" + uuid.uuid4().hex[:8]}]}), f"anonymous write into {db}")

    security = server.request("GET", f"/{central}/_security")
    open_up = {"members": {"names": [], "roles": []}, "admins": {"names": ["rita"], "roles": []}}
    for label, auth in callers:
        if label != "rita":
            continue
        r = call(url, "GET", f"/{central}/_local/_security", auth)
        rev = r.json().get("_rev") if r.ok else None
        doc = {"security": open_up, **({"_rev": rev} if rev else {})}
        call(url, "PUT", f"/{central}/_local/_security", auth, json=doc)
        call(url, "POST", f"/{central}/_bulk_docs", auth, json={"docs": [dict(doc, _id="_local/_security")]})
        call(url, "DELETE", f"/{central}/_local/_security" + (f"?rev={rev}" if rev else ""), auth)
        # (a CouchDB cluster answers 500 no_majority: every copy refused it)
        r = call(url, "PUT", f"/{central}/_security", auth, json=open_up)
        assert r.status_code >= 400, f"a Reader set _security: {r.status_code} {r.text[:200]}"
    # CouchDB keeps _local/_security as an ordinary local document; either way nothing changed:
    assert server.request("GET", f"/{central}/_security") == security
    refused(call(url, "GET", f"/{central}/_all_docs"), "anonymous read after the Reader's attempt")
    refused(call(url, "PUT", f"/{central}/_design/rita", callers[1][1], json={"views": {}}),
            "a Reader writing a design document")
