"""A partner receives, of a conflicted document at the centre, only the revisions that name it.

Each leaf revision of a conflicted document is a version of its own, written somewhere, and may
name a different partner than the winner does: here an order of one partner whose losing version
names another. CouchDB 3 runs a `_changes` filter (a function or a selector) with style=all_docs
on every leaf and lists only the leaves that pass, and its replicator fetches only the listed
ones; the embedded server must do the same (patches/pouchdb-adapter-leveldb-core.patch), or the
other partner's version is copied into this partner's database, where its people read it.

A partner of the test's own is set up the project's way (Partners.add: its database, security,
design and push and pull replications) and removed afterwards, so no other test's partner sees
these documents; the other partner is only a name in the content."""
from __future__ import annotations

import uuid

import pytest

from replication import replicator
from replication.partners import Partners, database_name, replicator_name

from .conftest import eventually


def _order(number: str, partner: str, customer: str) -> dict:
    """An order as the central validate_doc_update accepts it from the server admin; approved, so
    the intake (which places what partners submit) leaves it alone."""
    at = "2026-12-01T09:00:00Z"
    return {
        "_id": f"order:{number}", "type": "order", "number": number, "partner": partner,
        "customer": {"id": f"customer:{customer}", "name": f"Customer {customer}"},
        "lines": [{"line": 1, "sku": "WID-100", "qty": 2, "unit_price_cents": 450, "amount_cents": 900}],
        "totals": {"net_cents": 900, "qty": 2}, "currency": "EUR", "status": "approved", "priority": 3,
        "version": 1, "created_by": "carl", "created_at": at, "updated_by": "carl", "updated_at": at,
        "history": [{"at": at, "by": "carl", "action": "create", "to": "submitted"},
                    {"at": at, "by": "carl", "action": "approve", "from": "submitted", "to": "approved"}],
    }


def _leaf(body: dict, first: str, ancestor: str) -> dict:
    """A generation-2 revision on the branch whose hash starts with `first`, child of `ancestor`
    (a revision neither engine holds a body of, as after compaction): "f..." wins over "0..."."""
    h = first + uuid.uuid4().hex[1:]
    return dict(body, _rev=f"2-{h}", _revisions={"start": 2, "ids": [h, ancestor]})


@pytest.fixture(scope="module")
def setting(rserver, rsettings):
    """(partners, partner id, the other partner's id, the central database as the server admin)."""
    pid, other = "lf" + uuid.uuid4().hex[:8], "og" + uuid.uuid4().hex[:8]
    partners = Partners(rserver, rsettings, progress=lambda *_: None)
    central = rserver.admin(rsettings.db_name)
    partners.add(pid)
    yield partners, pid, other, central
    for rep_id in partners.replication_ids(pid):
        replicator.remove(rserver, rep_id)
    rserver.request("DELETE", f"/{database_name(pid, rsettings.namespace)}")
    users = rserver.admin("_users")
    for db, doc_id in ((central, f"partner:{pid}"), (users, rsettings.namespace.user_id(replicator_name(pid)))):
        doc = db.get_or_none(doc_id)
        if doc:
            db.delete(doc["_id"], doc["_rev"])


@pytest.fixture(scope="module")
def written(setting):
    """Three orders written at the centre by the server admin (new_edits=false, a revision at a
    time), each read as {id, winner, losing leaf}:
    - `leak`: the partner's order (winner) whose losing leaf names the other partner;
    - `mine`: the other partner's order (winner) whose losing leaf names the partner;
    - `plain`: the partner's order with one revision, written last."""
    partners, pid, other, central = setting
    since = central.info()["update_seq"]
    docs = {}
    for name, win, lose in (("leak", pid, other), ("mine", other, pid)):
        base = _order(f"SO-{win.upper()}-000001", win, "C1")
        ancestor = uuid.uuid4().hex
        winner = _leaf(base, "f", ancestor)
        loser = _leaf(dict(base, partner=lose), "0", ancestor)
        for rev in (winner, loser):
            rows = central.bulk([rev], new_edits=False)
            assert not [r for r in rows if r.get("error")], rows
        docs[name] = {"id": base["_id"], "winner": winner["_rev"], "loser": loser["_rev"]}
    plain = central.save(_order(f"SO-{pid.upper()}-000002", pid, "C1"))
    docs["plain"] = {"id": plain["_id"], "winner": plain["_rev"]}
    held = {d: {leaf["_rev"]: leaf["partner"] for leaf in central.leaves(docs[d]["id"])} for d in ("leak", "mine")}
    assert held == {"leak": {docs["leak"]["winner"]: pid, docs["leak"]["loser"]: other},
                    "mine": {docs["mine"]["winner"]: other, docs["mine"]["loser"]: pid}}
    assert central.get(docs["leak"]["id"])["_rev"] == docs["leak"]["winner"]
    yield docs, since
    # gone before the agents of later tests look for conflicted orders
    for doc in docs.values():
        rows = central.bulk([{"_id": doc["id"], "_rev": leaf["_rev"], "_deleted": True}
                             for leaf in central.leaves(doc["id"]) if not leaf.get("_deleted")])
        assert not [r for r in rows if r.get("error")], rows


def _listed(feed: dict, docs: dict) -> dict[str, set[str]]:
    """{name: the revisions the feed lists for that document} for the documents of `docs`."""
    names = {d["id"]: name for name, d in docs.items()}
    out: dict[str, set[str]] = {}
    for row in feed["results"]:
        if row["id"] in names:
            out.setdefault(names[row["id"]], set()).update(c["rev"] for c in row["changes"])
    return out


def test_the_partners_filtered_feed_lists_only_the_leaves_that_name_it(rserver, rsettings, setting, written):
    partners, pid, other, central = setting
    docs, since = written
    as_partner = partners.central(pid)   # the identity the partner's push replication reads with
    want = {"leak": {docs["leak"]["winner"]}, "mine": {docs["mine"]["loser"]}, "plain": {docs["plain"]["winner"]}}
    reads = {"filter oms/by_partner": lambda: as_partner._raw(
        "GET", "/_changes", params={"style": "all_docs", "since": since, "filter": "oms/by_partner",
                                    "partner": pid}).json()}
    if replicator.uses_selector(rserver.url, replicator.Endpoint(rserver.url, rsettings.db_name, "", "")):
        # what the partner's replication reads on CouchDB 3 (replication/replicator.py)
        reads["selector"] = lambda: as_partner._raw(
            "POST", "/_changes", params={"style": "all_docs", "since": since, "filter": "_selector"},
            json={"selector": {"partner": pid}}).json()
    for how, read in reads.items():
        # a cluster answers from one copy per shard range: wait until the one asked holds the writes
        listed = eventually(lambda: (lambda got: set(got) >= {"leak", "plain"} and got)(_listed(read(), docs)),
                            timeout=30, what=f"the partner's documents in its feed ({how})")
        assert docs["leak"]["loser"] not in listed["leak"], (
            f"{how}: the feed lists the losing leaf that names {other}: {listed['leak']}")
        assert listed == want, how


def test_the_partners_replication_copies_no_revision_of_another_partners_content(rserver, setting, written):
    partners, pid, other, central = setting
    docs, _ = written
    copy = rserver.admin(database_name(pid, partners.settings.namespace))

    def arrived():
        got = copy.get_or_none(docs["plain"]["id"]) and copy.get_or_none(docs["leak"]["id"])
        return got and got["_rev"] == docs["leak"]["winner"]
    eventually(arrived, timeout=120, what="the partner's orders reach its database")
    leaves = {leaf["_rev"]: leaf.get("partner") for leaf in copy.leaves(docs["leak"]["id"])}
    assert leaves == {docs["leak"]["winner"]: pid}, (
        f"the partner's database holds a revision naming {other}: {leaves}")
    # the partner's own version of the other partner's order travels, and nothing else of it
    mine = eventually(lambda: copy.leaves(docs["mine"]["id"]), timeout=60,
                      what="the partner's version of the other partner's order reaches it")
    assert {leaf["_rev"]: leaf.get("partner") for leaf in mine} == {docs["mine"]["loser"]: pid}
    for doc_id in (d["id"] for d in docs.values()):
        assert all(leaf.get("partner") == pid for leaf in copy.leaves(doc_id)), doc_id
