"""The promises that hold under any concurrency, with the writers spread over the nodes of a
CouchDB 3 cluster, each writing through a node of its own (OMS_COUCHDB_NODES names them; `make
test-cluster` sets it): no stock is held twice, no order number is handed out twice, and an
import creates each order once. A cluster takes a write once a quorum of copies did, so two
writers deciding on the same revision through different nodes can both be taken; oms/store/cas.py is
what makes the loser decide again. With one server (the embedded one, or a single node) the same
races run through it alone."""
from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from oms.identity import people
from oms.interchange.importing import import_bytes
from oms.interchange.pipeline import ImportContext
from oms.store.couch import CouchServer
from oms.store.numbers import NumberAllocator
from oms.wms import stock as stock_module
from oms.wms.stock import StockService, hold_key
from tests.fulfilment_fixtures import agent, new_sku, stock_doc  # noqa: F401
from tests.viewdata import product_doc

from .test_import import claim_docs, orders_csv


@pytest.fixture(scope="module")
def nodes(settings) -> list[CouchServer]:
    urls = [u for u in os.environ.get("OMS_COUCHDB_NODES", "").split(",") if u] or [settings.couchdb_url]
    return [CouchServer(u, settings.couchdb_user, settings.couchdb_password) for u in urls]


def as_person(nodes, settings, i: int, name: str, db_name: str | None = None):
    """The database as `name`, through node i (round robin)."""
    node = nodes[i % len(nodes)]
    return people.open_as(node, settings.secret_key, db_name or settings.db_name, name, settings.namespace)


def no_conflicts(db, doc_id: str) -> bool:
    return len([leaf for leaf in db.leaves(doc_id) if not leaf.get("_deleted")]) == 1


def test_thirty_claims_through_every_node_for_twenty_units_hold_exactly_twenty(nodes, settings, agent, new_sku,
                                                                                 monkeypatch):
    monkeypatch.setattr(stock_module, "turn", lambda doc_id: threading.Lock())   # processes: no turns
    sku = new_sku(20)
    services = [StockService(as_person(nodes, settings, i, agent.access.name), agent.access) for i in range(30)]
    with ThreadPoolExecutor(30) as pool:
        got = list(pool.map(lambda i: services[i].claim(sku, "MAIN", hold_key(f"SO-{i + 1:06d}", 1), 1), range(30)))
    assert sum(got) == 20 and got.count(0) == 10
    doc = stock_doc(agent, sku)
    assert (doc["on_hand"], doc["reserved"], len(doc["holds"])) == (20, 20, 20)
    assert {k for k, n in zip((hold_key(f"SO-{i + 1:06d}", 1) for i in range(30)), got) if n} == set(doc["holds"])
    assert no_conflicts(agent.db, doc["_id"])


def test_allocators_writing_through_every_node_never_hand_out_a_number_twice(nodes, settings, person):
    person("sally")
    dbs = [as_person(nodes, settings, i, "sally") for i in range(6)]
    allocators = [NumberAllocator(block=2) for _ in range(6)]
    with ThreadPoolExecutor(12) as pool:
        numbers = list(pool.map(lambda i: allocators[i % 6].next(dbs[i % 6]), range(150)))
    assert len(set(numbers)) == 150
    assert no_conflicts(dbs[0], "counter:order")


def test_imports_of_one_file_through_every_node_create_each_order_once(nodes, settings, person, server):
    from couch_design.deploy import deploy
    name = f"{settings.db_name}_nodes_{uuid.uuid4().hex[:6]}"
    admin = server.admin(name)
    deploy(admin, progress=lambda *_: None, namespace=settings.namespace)
    admin.bulk([{"_id": "customer:C0004", "type": "customer", "name": "Customer C0004", "currency": "EUR"},
                product_doc("SPR-010")])
    access, _ = person("oms-agent", groups=())
    tag = f"NODE-{uuid.uuid4().hex[:4].upper()}-"
    refs = [f"{tag}{i:04d}" for i in range(300)]
    data = orders_csv(refs)
    reports = []

    def run(i):
        db = as_person(nodes, settings, i, access.name, name)
        reports.append(import_bytes(ImportContext(db=db, access=access, numbers=NumberAllocator()), data, "csv"))
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sum(r.counts["created"] for r in reports) == 300 and not any(r.problems for r in reports)
        found = admin.find({"type": "order", "external_ref": {"$gt": tag, "$lt": tag + "\ufff0"}},
                           fields=["external_ref", "number"], limit=1000)["docs"]
        assert sorted(d["external_ref"] for d in found) == refs
        assert len({d["number"] for d in found}) == 300
        claimed = {ref: e["number"] for d in claim_docs(admin, tag) for ref, e in d["refs"].items()}
        assert {d["external_ref"]: d["number"] for d in found} == claimed
    finally:
        server.request("DELETE", f"/{name}")


def test_a_live_page_token_stays_put_while_nothing_changes_whichever_copies_answer(nodes, settings):
    """A cluster's update_seq adds up whichever copy of each shard answered, and copies count
    their updates differently once writes raced through several nodes: the token a live page polls
    with must not move while nothing changed (else every poll redraws), and must move on a write."""
    name = f"tokens_{uuid.uuid4().hex[:8]}"
    admin = nodes[0].admin(name)
    admin.create()
    try:
        def bump(i):
            db = nodes[i % len(nodes)].admin(name)
            for k in range(15):
                doc = db.get_or_none("hot") or {"_id": "hot", "n": 0}
                doc["n"] += 1
                try:
                    db.save(doc)
                except Exception:
                    pass
                db.bulk([{"_id": f"d-{i}-{k}"}])
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(bump, range(6)))
        # processes of their own (a server object each), each asking through every node
        readers = [CouchServer(node.url, settings.couchdb_user, settings.couchdb_password) for node in nodes * 3]
        first = [r.admin(name).change_token() for r in readers]
        again = [[r.admin(name).change_token() for _ in range(10)] for r in readers]
        assert all(set(seen) == {token} for token, seen in zip(first, again)), (first, again)
        db = readers[0].admin(name)
        now = db.change_token()
        assert all(db.still_at(token, now) for token in first)   # another process's token: nothing changed
        nodes[-1].admin(name).save({"_id": "after"})
        moved = db.change_token()
        assert moved != now and not db.still_at(now, moved) and not any(db.still_at(t, moved) for t in first)
    finally:
        nodes[0].request("DELETE", f"/{name}")
