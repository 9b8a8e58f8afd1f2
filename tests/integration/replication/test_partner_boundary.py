"""A partner person against the server's boundary: alice@acme, who may write her own partner's
database, tries to copy another partner's database (and the centre's) into hers by replication,
to read them around the views (_find, _bulk_get), and to read the replication documents that
hold the replicator identities' passwords. Each is refused, and afterwards the central database,
_users, _replicator and both partners' databases hold exactly what they held before. Runs on
whichever engine the suite uses (tests/integration/test_server_boundary.py has the rest)."""
from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from oms.devstack.partner_demo import DEMO_PASSWORD
from replication import status
from replication.partners import database_name
from tests.boundary import call, changes, nothing_arrives, refused, refused_each, settled_snapshot, snapshot

from .conftest import eventually



def alice(rsettings) -> tuple[str, str]:
    """Alice of Acme's sign-in, as the server knows her (the run's desk, oms/core/namespace.py)."""
    return rsettings.namespace.user("alice@acme"), DEMO_PASSWORD


@pytest.fixture
def guarded(rserver, rsettings, demo_partners):
    """The snapshot once the partners' own replications have delivered what they had pending
    (what an earlier test wrote is still on its way), and nothing moved for two seconds."""
    def caught_up():
        states = [st for st in status.partner_states(rserver, rsettings)
                  if rsettings.db_name in st.source + st.target]
        return states and all(st.pending == 0 for st in states)
    eventually(caught_up, timeout=60, what="the partners' replications have nothing pending")
    ns = rsettings.namespace
    dbs = (rsettings.db_name, "_users", "_replicator", database_name("acme", ns), database_name("globex", ns))
    before = settled_snapshot(rserver, dbs, rsettings.desk, quiet=2.0)
    yield before
    assert rserver.up(), "the server stopped answering"
    after = snapshot(rserver, dbs, rsettings.desk)
    assert after == before, f"a database changed: {changes(before, after)}"


def test_a_partner_person_cannot_replicate_another_partners_database_into_hers(rserver, rsettings, guarded):
    url = rserver.url
    ns, me = rsettings.namespace, alice(rsettings)
    mine, theirs, central = database_name("acme", ns), database_name("globex", ns), rsettings.db_name
    roles = rserver.admin("_users").get(ns.user_id("alice@acme"))["roles"]
    as_alice = url.replace('://', f"://{quote(me[0], safe='')}:{quote(me[1], safe='')}@")
    for source in (theirs, central, "_users", "_replicator"):
        specs = [
            {"source": source, "target": mine, "user_ctx": {"name": me[0], "roles": roles}},
            {"source": source, "target": mine, "user_ctx": {"name": me[0], "roles": roles + ["_admin"]}},
            {"source": source, "target": mine},
            {"source": f"{as_alice}/{source}", "target": f"{as_alice}/{mine}",
             "user_ctx": {"name": me[0], "roles": roles}},
        ]
        for i, spec in enumerate(specs):
            refused(call(url, "PUT", f"/_replicator/attack-alice-{uuid.uuid4().hex[:8]}", me, json=spec),
                    f"alice's _replicator document {i} from {source}")
        refused_each(call(url, "POST", "/_replicator/_bulk_docs", me,
                          json={"docs": [dict(specs[0], _id=f"attack-alice-{uuid.uuid4().hex[:8]}")]}),
                     f"alice's _bulk_docs into _replicator from {source}")
        for spec in ({"source": source, "target": mine},
                     {"source": f"{as_alice}/{source}", "target": f"{as_alice}/{mine}"}):
            # CouchDB 3 runs it with her rights (she cannot read the source); the embedded
            # server runs only an admin's.
            r = call(url, "POST", "/_replicate", me, json=spec)
            assert r.status_code >= 400, f"alice replicated {source}: {r.status_code} {r.text[:200]}"
    nothing_arrives(rserver, guarded)


def test_a_partner_person_reads_no_other_database_by_any_route(rserver, rsettings, guarded):
    url, me = rserver.url, alice(rsettings)
    for db in (database_name("globex", rsettings.namespace), rsettings.db_name, "_users", "_replicator"):
        some_id = next(iter(guarded[db]), "acl")
        for method, path, body in (
                ("GET", "", None), ("GET", "/_all_docs", None), ("GET", "/_changes", None),
                ("GET", f"/{quote(some_id, safe='')}", None),
                ("POST", "/_find", {"selector": {"_id": {"$gt": None}}}),
                ("POST", "/_bulk_get", {"docs": [{"id": some_id}]}),
                ("POST", "/_all_docs", {"keys": [some_id]})):
            refused(call(url, method, f"/{quote(db, safe='')}{path}", me, json=body), f"alice {method} {db}{path}")
    # the replicator identities' passwords are in the _replicator documents
    for doc_id in [i for i in guarded["_replicator"] if not i.startswith("_design/")][:6]:
        refused(call(url, "GET", f"/_replicator/{quote(doc_id, safe='')}", me), f"alice reading {doc_id}")


def test_no_partner_database_reads_anonymously(rserver, rsettings, guarded):
    url = rserver.url
    for db in (database_name("acme", rsettings.namespace), database_name("globex", rsettings.namespace), rsettings.db_name):
        for method, path, body in (("GET", "/_all_docs", None), ("GET", "/_changes", None),
                                   ("POST", "/_find", {"selector": {"_id": {"$gt": None}}}),
                                   ("POST", "/_bulk_get", {"docs": [{"id": i} for i in list(guarded[db])[:3]]})):
            refused(call(url, method, f"/{db}{path}", json=body), f"anonymous {method} {db}{path}")
        refused_each(call(url, "POST", f"/{db}/_bulk_docs", json={"docs": [{"_id": f"anon-{uuid.uuid4().hex[:8]}"}]}),
                     f"anonymous write into {db}")
