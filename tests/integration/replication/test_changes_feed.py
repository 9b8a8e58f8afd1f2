"""The filtered `_changes` feed that partner replication walks, on the real server: thousands of
documents written in rounds (updates that leave stale entries behind, moves into and out of a
partner, tombstones with and without the partner field, conflicts whose winning revision
matches the filter while the last-written losing one does not, and the reverse, a conflict whose
deleted winner hands the win to an older branch).

What CouchDB 3 promises, asserted on every engine: every document whose winning revision passes
the filter is delivered, at least once, and nothing else (with the default style the filter
decides on the winning revision); pages of `limit`, each resumed from its last result's `seq`,
together cover the whole feed; `since` resumes without losing anything; a filtered replication
copies exactly the revisions that pass. A page's `last_seq` is where the server stopped looking,
which on CouchDB 3 may lie past changes a `limit` kept out of the page: on a sharded database,
resuming from it loses them (tried on CouchDB 3.5: up to 95 of 512 documents with limit=2 on three
nodes, some with limit=1 on one node of two shards), so pages resume from their last result.

Where the database keeps one copy of each shard (`GET /db` answers cluster.n == 1, or has no
`cluster` member: PouchDB Server), one copy answers every call and each document comes once.
Where it is also one shard (q == 1, or PouchDB Server), the feed is one sequence: changes come in
the order they were last written, a sequence string names the same point in every answer,
`since` gives exactly the changes after it and descending the latest first. A cluster (here
n = 3, q = 2) merges one copy per shard range, whichever answers first: no global order, sequence
strings that differ from call to call, and a change may come again after a copy changes.

With style=all_docs the filter decides each leaf revision on its own, and a change lists the leaves
that pass: a conflicted document whose losing leaf passes is listed with that leaf, a losing leaf
that fails is not, and a document none of whose leaves passes is left out. CouchDB 3 does so, and so
does PouchDB Server (patches/pouchdb-adapter-leveldb-core.patch; upstream ran the filter on the
winning revision and listed every leaf). Both replicators ask for all_docs, so this decides which
revisions a filtered replication copies.

PouchDB Server reads documents' metadata ahead while it walks the feed
(patches/pouchdb-adapter-leveldb-core.patch): the last test compares every answer, byte for byte,
with a server that reads them one at a time as upstream does (ORDER_DESK_CHANGES_READ_AHEAD=1)."""
from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from oms.store.couch import CouchServer
from replication import replicator

from .conftest import eventually

N = 2000
PARTNER = "acme"
FILTER = (Path(__file__).resolve().parents[3] / "couch_design" / "oms" / "filters" / "by_partner.js").read_text()
DESIGN = {"_id": "_design/t", "_rev": "1-" + "d" * 32, "filters": {"by_partner": FILTER}}


def _hash(*parts) -> str:
    return hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()


def doc_id(i: int) -> str:
    return f"order:T{i:05d}"


class Model:
    """What was written, revision by revision: each document's leaves and the round of its last
    write; the winning revision as CouchDB picks it (not deleted, longest, highest hash)."""

    def __init__(self):
        self.leaves: dict[str, dict[str, dict]] = {}
        self.path: dict[str, list[str]] = {}   # rev -> its ancestry hashes, newest first
        self.last_round: dict[str, int] = {}

    def write(self, rounds: list[list[dict]], bulk) -> None:
        """Send each round as one _bulk_docs through `bulk(docs) -> rows` (new_edits=false, so
        revisions are ours and two servers given the same rounds number their changes alike)."""
        for r, docs in enumerate(rounds):
            rows = bulk(docs)
            assert not [x for x in rows if x.get("error")], rows[:3]
            for d in docs:
                self.last_round[d["_id"]] = r

    def child(self, i: int, parent: str | None, body: dict, branch: str = "", deleted: bool = False) -> dict:
        did = doc_id(i)
        gen = int(parent.split("-")[0]) + 1 if parent else 1
        h = _hash(did, gen, branch)
        if branch:
            h = branch + h[1:]
        rev = f"{gen}-{h}"
        ancestry = [h] + (self.path[parent] if parent else [])
        self.path[rev] = ancestry
        leaves = self.leaves.setdefault(did, {})
        leaves.pop(parent, None)
        leaves[rev] = dict(body, _deleted=deleted)
        doc = {"_id": did, "_rev": rev, "_revisions": {"start": gen, "ids": ancestry}, **body}
        if deleted:
            doc["_deleted"] = True
        return doc

    def winner(self, did: str) -> tuple[str, dict]:
        def rank(item):
            rev, body = item
            gen, h = rev.split("-")
            return (not body["_deleted"], int(gen), h)
        return max(self.leaves[did].items(), key=rank)

    def matching(self) -> list[str]:
        """The documents whose winning revision names the partner, in the order of their last write
        (a round at a time; within a round the server's order)."""
        ids = [d for d in self.leaves if self.winner(d)[1].get("partner") == PARTNER]
        return sorted(ids, key=lambda d: self.last_round[d])

    def passing(self) -> dict[str, set[str]]:
        """style=all_docs: each listed document and the revisions its change lists, the leaves
        that name the partner."""
        out = {}
        for did, leaves in self.leaves.items():
            revs = {rev for rev, body in leaves.items() if body.get("partner") == PARTNER}
            if revs:
                out[did] = revs
        return out

    def copied(self) -> dict[str, str]:
        """What a filtered replication into an empty database leaves there: each live document and
        its winning revision, the winner among the leaves that travelled."""
        out = {}
        for did, revs in self.passing().items():
            leaves = {rev: self.leaves[did][rev] for rev in revs}
            rev, body = max(leaves.items(), key=lambda item: (not item[1]["_deleted"],
                                                               int(item[0].split("-")[0]), item[0].split("-")[1]))
            if not body["_deleted"]:
                out[did] = rev
        return out


def build(model: Model) -> list[list[dict]]:
    rounds: list[list[dict]] = [[], [], [], [], [], []]
    rev: dict[int, str] = {}
    body: dict[int, dict] = {}
    for i in range(N):
        body[i] = {"type": "order", "n": i}
        if i % 4 == 0:
            body[i]["partner"] = PARTNER
        elif i % 4 == 1:
            body[i]["partner"] = "globex"
        d = model.child(i, None, body[i])
        rev[i] = d["_rev"]
        rounds[0].append(d)
    deleted = set()
    for i in range(0, N, 9):  # updates: stale entries; some leave the partner, some join it
        b = dict(body[i], n=-i)
        if i % 36 == 0:
            b["partner"] = "globex"
        elif i % 4 == 1:
            b["partner"] = PARTNER
        body[i] = b
        d = model.child(i, rev[i], b)
        rev[i] = d["_rev"]
        rounds[1].append(d)
    for i in range(2, N, 13):  # tombstones: with the partner field half the time
        b = {"partner": body[i]["partner"]} if i % 2 == 0 and "partner" in body[i] else {}
        rounds[2].append(model.child(i, rev[i], b, deleted=True))
        deleted.add(i)
    conflicted = [i for i in range(3, N, 31) if i not in deleted]
    winners = {}
    for i in conflicted:  # the winning branch (hash f...) first ...
        b = {"type": "order", "n": i, "partner": PARTNER if i % 2 else "globex"}
        d = model.child(i, rev[i], b, branch="f")
        winners[i] = d["_rev"]
        rounds[3].append(d)
    for i in conflicted:  # ... then a losing branch (hash 0...) that says the opposite, written last
        b = {"type": "order", "n": i, "partner": "globex" if i % 2 else PARTNER}
        rounds[4].append(model.child(i, rev[i], b, branch="0"))
    for i in conflicted[::2]:  # a deleted winner: the older branch wins again
        rounds[5].append(model.child(i, winners[i], {}, deleted=True))
    return rounds


@dataclass(frozen=True)
class Layout:
    """How the server keeps a database (`GET /db` → cluster: n copies of q shards; PouchDB Server
    answers without a `cluster` member: one file, one sequence)."""
    copies: int
    shards: int
    clustered: bool

    @classmethod
    def of(cls, server: CouchServer, db: str) -> "Layout":
        cluster = server.request("GET", f"/{db}").get("cluster")
        if not cluster:
            return cls(1, 1, False)
        return cls(int(cluster["n"]), int(cluster["q"]), True)

    @property
    def one_copy(self) -> bool:
        """One copy of each shard answers every call: each change comes once."""
        return self.copies == 1

    @property
    def one_sequence(self) -> bool:
        """One copy of one shard: write order, stable sequence strings, exact resumption."""
        return self.copies == 1 and self.shards == 1


def bulk_on_every_copy(server: CouchServer, auth, db: str, layout: Layout):
    """_bulk_docs (new_edits=false) that returns once every copy holds the revisions (w = n): the
    feed is read right after, from one copy per shard range, whichever answers. A copy that did
    not confirm in time (202 Accepted) is brought up to date by reading each document from every
    copy (the read repairs the copies that lack a revision)."""
    def bulk(docs: list[dict]) -> list[dict]:
        params = {"w": layout.copies} if layout.copies > 1 else None
        r = server.send("POST", f"/{db}/_bulk_docs", auth=auth, params=params,
                        json={"docs": docs, "new_edits": False})
        if r.status_code == 202:
            for did in dict.fromkeys(d["_id"] for d in docs):
                server.send("GET", f"/{db}/{quote(did, safe=':')}", auth=auth,
                            params={"open_revs": "all", "r": layout.copies}, headers={"Accept": "application/json"})
        return r.json()
    return bulk


@pytest.fixture(scope="module")
def feed(rserver, rsettings):
    """A database on the central server holding the rounds, the model of what they hold, and how
    the server keeps it."""
    name = f"{rsettings.db_name}_changes_{uuid.uuid4().hex[:6]}"
    rserver.admin(name).create()
    layout = Layout.of(rserver, name)
    bulk = bulk_on_every_copy(rserver, (rsettings.couchdb_user, rsettings.couchdb_password), name, layout)
    model = Model()
    bulk([DESIGN])
    model.write(build(model), bulk)
    yield rserver, name, model, layout
    rserver.request("DELETE", f"/{name}")


def changes(server: CouchServer, db: str, **params) -> dict:
    body = params.pop("body", None)
    if body is not None:
        return server.request("POST", f"/{db}/_changes", params=params, json=body)
    return server.request("GET", f"/{db}/_changes", params=params)


def by_partner(**params) -> dict:
    return {"filter": "t/by_partner", "partner": PARTNER, **params}


def pages(server, db, limit: int, since=0, **params) -> list[dict]:
    """The feed a page of `limit` at a time, each resumed from its last result's seq (a page's
    last_seq may lie past changes the limit kept out: see the module's note)."""
    out = []
    while True:
        page = changes(server, db, limit=limit, since=since, **params)
        assert len(page["results"]) <= limit
        if not page["results"]:
            return out
        out.append(page)
        since = page["results"][-1]["seq"]


def test_a_filtered_feed_holds_exactly_the_documents_whose_winning_revision_matches_in_write_order(feed):
    server, db, model, layout = feed
    want = model.matching()
    whole = changes(server, db, **by_partner())["results"]
    ids = [c["id"] for c in whole]
    assert set(ids) == set(want)
    for c in whole:
        rev, winner = model.winner(c["id"])
        assert c["changes"] == [{"rev": rev}], c
        assert bool(c.get("deleted")) == winner["_deleted"], c
    if layout.one_copy:
        assert len(ids) == len(set(ids)), "a document came twice"
    if layout.one_sequence:
        rounds = [model.last_round[d] for d in ids]
        assert rounds == sorted(rounds), "changes out of the order they were written"
    # the cases the walk must get right
    conflicted = [d for d in model.leaves if len(model.leaves[d]) > 1]
    assert conflicted
    for d in conflicted:
        assert (d in ids) == (model.winner(d)[1].get("partner") == PARTNER)
    assert any(model.winner(d)[1]["_deleted"] for d in ids), "a tombstone that keeps the partner travels"
    won_by = {d: model.winner(d)[0].split("-")[1][0] for d in conflicted if d in ids}
    assert "f" in won_by.values(), "a winner that matches while the last-written loser does not"
    assert "0" in won_by.values(), "an older branch that wins again once the winner is deleted"


def test_with_style_all_docs_each_change_lists_the_leaves_that_pass_the_filter(feed):
    server, db, model, layout = feed
    whole = changes(server, db, style="all_docs", **by_partner())["results"]
    listed: dict[str, set[str]] = {}
    for c in whole:
        assert bool(c.get("deleted")) == model.winner(c["id"])[1]["_deleted"], c
        listed.setdefault(c["id"], set()).update(x["rev"] for x in c["changes"])
    assert listed == model.passing()
    # the rounds hold both cases that tell a filter on each leaf from one on the winner: a winner
    # that passes with a losing leaf that does not, and a winner that fails with one that passes
    conflicted = [d for d in model.leaves if len(model.leaves[d]) > 1]
    assert any(model.winner(d)[1].get("partner") == PARTNER and set(model.leaves[d]) - listed[d] for d in conflicted)
    assert any(d in listed and model.winner(d)[1].get("partner") != PARTNER for d in conflicted)
    if layout.one_copy:
        assert len(whole) == len(listed), "a document came twice"
    if layout.one_sequence:
        rounds = [model.last_round[c["id"]] for c in whole]
        assert rounds == sorted(rounds), "changes out of the order they were written"
    # on either engine: every document whose winner matches, with its winner among the revisions
    for d in model.matching():
        assert model.winner(d)[0] in listed[d]


@pytest.mark.parametrize("limit, start", [(37, 0), (500, 0), (1, -60)])
def test_the_filtered_feed_in_pages_of_limit_is_the_whole_feed(feed, limit, start):
    server, db, model, layout = feed
    whole = changes(server, db, **by_partner())["results"]
    since = whole[start - 1]["seq"] if start else 0   # limit=1: the last 60 pages only
    expected = whole[start:]
    paged = pages(server, db, limit, since=since, **by_partner())
    got = [c for p in paged for c in p["results"]]
    assert all(len(p["results"]) == limit for p in paged[:-1])
    assert {c["id"] for c in got} >= {c["id"] for c in expected}, "a page lost a change"
    assert {c["id"] for c in got} <= set(model.matching())
    if layout.one_copy:
        assert sorted(c["id"] for c in got) == sorted(c["id"] for c in expected)
    if layout.one_sequence:
        assert [(c["id"], c["seq"]) for c in got] == [(c["id"], c["seq"]) for c in expected]
    if not layout.clustered:   # PouchDB Server: a page ends at its last result
        assert all(p["last_seq"] == p["results"][-1]["seq"] for p in paged)


def test_since_in_the_middle_gives_exactly_the_rest(feed):
    server, db, model, layout = feed
    whole = changes(server, db, **by_partner())["results"]
    for k in (0, 1, 63, 64, 65, len(whole) // 2, len(whole) - 2):
        rest = [c["id"] for c in changes(server, db, since=whole[k]["seq"], **by_partner())["results"]]
        after = [c["id"] for c in whole[k + 1:]]
        assert set(rest) >= set(after), k
        assert set(rest) <= set(model.matching()), k
        if layout.one_copy:
            assert sorted(rest) == sorted(after), k
        if layout.one_sequence:
            assert rest == after, k


def test_descending_with_a_limit_gives_the_latest_matching_changes_first(feed):
    server, db, model, layout = feed
    whole = changes(server, db, **by_partner())["results"]
    latest = [c["id"] for c in changes(server, db, descending="true", limit=25, **by_partner())["results"]]
    assert len(latest) == 25 and set(latest) <= set(model.matching())
    backwards = [c["id"] for c in changes(server, db, descending="true", **by_partner())["results"]]
    assert set(backwards) == set(model.matching())
    if layout.one_copy:
        assert len(set(latest)) == len(latest) and len(set(backwards)) == len(backwards)
    if layout.one_sequence:
        assert latest == [c["id"] for c in whole[::-1][:25]]
        assert backwards == [c["id"] for c in whole[::-1]]


def test_the_documents_in_a_filtered_feed_are_the_winning_revisions(feed):
    server, db, model, layout = feed
    for c in changes(server, db, include_docs="true", **by_partner())["results"]:
        rev, winner = model.winner(c["id"])
        assert c["doc"]["_rev"] == rev
        assert c["doc"].get("partner") == PARTNER


def test_the_unfiltered_feed_and_doc_ids_hold_every_document_once_in_write_order(feed):
    server, db, model, layout = feed
    whole = changes(server, db)["results"]
    ids = [c["id"] for c in whole if not c["id"].startswith("_design/")]
    assert set(ids) == set(model.leaves)
    some = [doc_id(i) for i in (3, 4, 5, 9, 36, 1000, 1999)] + ["order:missing"]
    chosen = [c["id"] for c in changes(server, db, filter="_doc_ids", body={"doc_ids": some})["results"]]
    assert set(chosen) == set(some) - {"order:missing"}
    if layout.one_copy:
        assert len(ids) == len(set(ids)) and len(chosen) == len(set(chosen))
    if layout.one_sequence:
        rounds = [model.last_round[d] for d in ids]
        assert rounds == sorted(rounds)
        assert chosen == [d for d in ids if d in some]


def test_a_filtered_replication_copies_exactly_the_partners_documents_and_their_winners(feed, rsettings):
    server, db, model, layout = feed
    target = f"{db}_copy"
    server.admin(target).create()
    try:
        ep = lambda name: replicator.Endpoint(server.url, name, rsettings.couchdb_user,  # noqa: E731
                                              rsettings.couchdb_password).as_json()
        rep_id = f"test-{target}"
        server.admin("_replicator").save({"_id": rep_id, "source": ep(db), "target": ep(target),
                                          "filter": "t/by_partner", "query_params": {"partner": PARTNER}})
        def ended():
            state = replicator.job_state(server, rep_id)
            return state in ("completed", "failed") and state
        assert eventually(ended, timeout=120, what="the one-shot replication ends") == "completed"
        replicator.remove(server, rep_id)
        copy = server.admin(target)
        want = model.copied()
        # every engine: the partner's live documents, each at its winning revision
        alive = {d for d in model.matching() if not model.winner(d)[1]["_deleted"]}
        assert {d: want.get(d) for d in alive} == {d: model.winner(d)[0] for d in alive}
        assert any(len(model.leaves[d]) > 1 for d in alive)
        # and a losing leaf that passes when the winner does not
        assert set(want) > alive
        # a cluster answers from one copy per shard range: wait until the one asked holds every write
        held = settle(lambda: {r["id"]: r["value"]["rev"] for r in copy.all_docs()["rows"]}, want)
        assert held == want
        for row in copy.all_docs(include_docs=True)["rows"]:
            assert row["doc"]["partner"] == PARTNER, row
        for d in (d for d in want if len(model.leaves[d]) > 1):   # the losing leaves too
            assert {leaf["_rev"]: leaf.get("partner") for leaf in copy.leaves(d)} == \
                {rev: PARTNER for rev in model.passing()[d]}, d
    finally:
        server.request("DELETE", f"/{target}")


def settle(read, want, timeout: float = 30.0):
    """`read()` until it answers `want` or the time is up; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        got = read()
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_a_longpoll_with_the_filter_wakes_only_for_a_matching_change(rserver, rsettings):
    # The continuous listener runs the same walk for each notification (levelChanges).
    name = f"{rsettings.db_name}_live_{uuid.uuid4().hex[:6]}"
    db = rserver.admin(name)
    db.create()
    try:
        db.bulk([DESIGN], new_edits=False)
        db.bulk([{"_id": f"order:old{i}", "partner": PARTNER if i % 3 else "globex"} for i in range(300)])
        since = db.info()["update_seq"]
        answer = {}

        def poll():
            answer["feed"] = changes(rserver, name, feed="longpoll", since=since, **by_partner())
        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)
        db.save({"_id": "order:live-other", "partner": "globex"})
        time.sleep(0.3)
        assert t.is_alive(), "the longpoll answered a change that is not the partner's"
        db.save({"_id": "order:live-mine", "partner": PARTNER})
        t.join(30)
        assert [c["id"] for c in answer["feed"]["results"]] == ["order:live-mine"]
    finally:
        rserver.request("DELETE", f"/{name}")


@pytest.fixture(scope="module")
def one_at_a_time(rstack, tmp_path_factory):
    """A second PouchDB Server that reads metadata one entry at a time, as upstream does."""
    if rstack.couch is None:
        pytest.skip("compares the embedded PouchDB Server's read-ahead with upstream's walk")
    from oms.devstack.embedded import EmbeddedCouch
    before = os.environ.get("ORDER_DESK_CHANGES_READ_AHEAD")
    os.environ["ORDER_DESK_CHANGES_READ_AHEAD"] = "1"
    try:
        couch = EmbeddedCouch(tmp_path_factory.mktemp("upstream-walk"), "admin", "pw").start()
    finally:
        if before is None:
            del os.environ["ORDER_DESK_CHANGES_READ_AHEAD"]
        else:
            os.environ["ORDER_DESK_CHANGES_READ_AHEAD"] = before
    yield CouchServer(couch.url, "admin", "pw")
    couch.stop()


def test_reading_ahead_answers_every_feed_exactly_as_reading_one_at_a_time(rserver, rsettings, one_at_a_time):
    # Fresh databases given the same rounds on both servers: same revisions, same sequence numbers.
    name = f"{rsettings.db_name}_walk_{uuid.uuid4().hex[:6]}"
    servers = (rserver, one_at_a_time)
    for server in servers:
        db = server.admin(name)
        db.create()
        db.bulk([DESIGN], new_edits=False)
        model = Model()
        model.write(build(model), lambda docs, db=db: db.bulk(docs, new_edits=False))
    try:
        queries = [
            {}, {"style": "all_docs"}, {"limit": 5}, {"since": 100, "limit": 50}, {"descending": "true", "limit": 20},
            {"include_docs": "true", "conflicts": "true", "style": "all_docs"},
            by_partner(), by_partner(style="all_docs", include_docs="true"), by_partner(since=700),
            by_partner(descending="true", limit=25), by_partner(limit=1, since=1234),
            {"filter": "_doc_ids", "body": {"doc_ids": [doc_id(i) for i in range(0, N, 7)]}},
            {"filter": "_doc_ids", "limit": 3, "body": {"doc_ids": [doc_id(i) for i in range(0, N, 7)]}},
        ]
        for q in queries:
            a, b = (changes(s, name, **dict(q)) for s in servers)
            assert a == b, q
        for limit in (37, 500):
            a, b = (pages(s, name, limit, **by_partner(style="all_docs")) for s in servers)
            assert a == b, limit
    finally:
        for server in servers:
            server.request("DELETE", f"/{name}")
