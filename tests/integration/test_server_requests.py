"""What the server answers for the requests placement passes lean on, on a scratch database of
their own: `_all_docs` by keys, `_bulk_docs` validated against the design documents and the
security object, a view over documents that start and stop emitting. The embedded server
answers these through patches/ (point reads by key; one look-up of the design documents and of
the security object per request; no index entry for a document that never emitted): each
answer must stay what CouchDB 3 gives, so these run unchanged against COUCHDB_URL."""
from __future__ import annotations

import time

import pytest

from oms.identity import people
from oms.store.couch import CouchError, Forbidden

VDU = """function (newDoc, oldDoc, userCtx) {
  if (newDoc.bad) { throw({forbidden: 'bad: ' + newDoc._id}); }
}"""
VDU_STRICTER = """function (newDoc, oldDoc, userCtx) {
  if (newDoc.bad || newDoc.worse) { throw({forbidden: 'bad or worse: ' + newDoc._id}); }
}"""
MAP = "function (doc) { if (doc.kind === 'order') { emit(doc.customer, doc.amount); } }"


@pytest.fixture
def scratch(server, settings):
    name = f"{settings.db_name}_requests"
    if name in server.request("GET", "/_all_dbs"):
        server.request("DELETE", f"/{name}")
    server.request("PUT", f"/{name}")
    db = server.admin(name)
    yield db
    server.request("DELETE", f"/{name}")


def _by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in rows}


def test_all_docs_by_keys_answers_each_key_in_order_as_single_reads_do(scratch):
    scratch.bulk([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}, {"_id": "c", "n": 3}])
    b = scratch.get("b")
    scratch.bulk([{"_id": "b", "_rev": b["_rev"], "_deleted": True}])
    # c gets a second branch: a conflict, whose losing revision must be named
    c = scratch.get("c")
    scratch.bulk([{"_id": "c", "_rev": "2-" + "a" * 32, "n": 4,
                   "_revisions": {"start": 2, "ids": ["a" * 32, c["_rev"].split("-")[1]]}},
                  {"_id": "c", "_rev": "2-" + "b" * 32, "n": 5,
                   "_revisions": {"start": 2, "ids": ["b" * 32, c["_rev"].split("-")[1]]}}], new_edits=False)

    keys = ["c", "nope", "a", "b", "a"]
    rows = scratch.all_docs(keys=keys, include_docs=True, conflicts=True)["rows"]
    assert [r.get("id", r["key"]) for r in rows] == keys
    assert rows[1] == {"key": "nope", "error": "not_found"}
    assert rows[2] == rows[4]
    assert rows[2]["doc"] == scratch.get("a") and rows[2]["value"] == {"rev": scratch.get("a")["_rev"]}
    assert rows[3]["value"]["deleted"] is True and rows[3]["doc"] is None
    assert rows[3]["value"]["rev"].startswith("2-")
    c_now = scratch.get("c", conflicts=True)
    assert rows[0]["doc"] == c_now and rows[0]["doc"]["n"] == 5
    assert rows[0]["doc"]["_conflicts"] == ["2-" + "a" * 32]

    plain = scratch.all_docs(keys=["a", "nope", "c"])["rows"]
    assert [r.get("value", {}).get("rev") for r in plain] == [scratch.get("a")["_rev"], None, c_now["_rev"]]
    assert all("doc" not in r for r in plain if "error" not in r)
    assert scratch.all_docs(keys=[])["rows"] == []


def test_a_bulk_is_judged_document_by_document_by_the_design_documents_of_its_time(scratch):
    scratch.bulk([{"_id": "_design/rules", "validate_doc_update": VDU}])
    rows = _by_id(scratch.bulk([{"_id": "ok1"}, {"_id": "no1", "bad": True}, {"_id": "ok2", "worse": True}]))
    assert "error" not in rows["ok1"] and "error" not in rows["ok2"]
    assert rows["no1"]["error"] == "forbidden" and "bad: no1" in rows["no1"]["reason"]
    assert scratch.get_or_none("no1") is None

    # a changed design document applies from the next request on
    ddoc = scratch.get("_design/rules")
    scratch.bulk([{**ddoc, "validate_doc_update": VDU_STRICTER}])
    rows = _by_id(scratch.bulk([{"_id": "ok3"}, {"_id": "no2", "worse": True}, {"_id": "no3", "bad": True}]))
    assert "error" not in rows["ok3"]
    assert rows["no2"]["error"] == rows["no3"]["error"] == "forbidden"
    assert "bad or worse: no2" in rows["no2"]["reason"]
    # ... and a deleted one no longer applies
    scratch.bulk([{"_id": "_design/rules", "_rev": scratch.get("_design/rules")["_rev"], "_deleted": True}])
    assert "error" not in scratch.bulk([{"_id": "fine", "bad": True}])[0]


def test_a_bulk_from_someone_outside_the_members_writes_nothing(scratch, server, settings, person):
    access, _ = person("sally")   # mirrored into _users, with the roles her ACL entry gives her
    password = people.couch_password(settings.secret_key, "sally")
    scratch.put_security({"admins": {"names": [], "roles": []},
                          "members": {"names": ["someone-else"], "roles": ["no-such-role"]}})
    outsider = server.as_person(scratch.name, settings.namespace.user("sally"), password)
    try:
        rows = outsider.bulk([{"_id": "x1"}, {"_id": "x2"}])
        assert all(r.get("error") in ("unauthorized", "forbidden") for r in rows), rows
    except CouchError as exc:
        assert exc.status in (401, 403)
    assert scratch.all_docs(keys=["x1", "x2"])["rows"] == [{"key": "x1", "error": "not_found"},
                                                          {"key": "x2", "error": "not_found"}]
    scratch.put_security({"admins": {"names": [], "roles": []},
                          "members": {"names": [settings.namespace.user("sally")], "roles": []}})
    # A cluster hands a new security object to each shard's copies a moment later.
    deadline = time.monotonic() + 10
    while True:
        try:
            rows = outsider.bulk([{"_id": "x1"}, {"_id": "x2"}])
            break
        except Forbidden:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert all("error" not in r for r in rows)


def _totals(db) -> dict:
    return {r["key"]: r["value"] for r in db.view("t", "by_customer", group=True)["rows"]}


def _ids(db) -> list[str]:
    return sorted(r["id"] for r in db.view("t", "by_customer", reduce=False)["rows"])


def test_a_view_follows_documents_that_start_and_stop_emitting(scratch):
    scratch.bulk([{"_id": "_design/t", "views": {"by_customer": {"map": MAP, "reduce": "_sum"}}}])
    scratch.bulk([{"_id": "s1", "kind": "stock"}, {"_id": "o1", "kind": "order", "customer": "C1", "amount": 5},
                  {"_id": "o2", "kind": "order", "customer": "C2", "amount": 7}])
    assert _ids(scratch) == ["o1", "o2"] and _totals(scratch) == {"C1": 5, "C2": 7}

    def update(doc_id, **body):
        doc = scratch.get(doc_id)
        scratch.bulk([{"_id": doc_id, "_rev": doc["_rev"], **body}])

    for k in range(3):   # a document that never emits, changed again and again: never a row
        update("s1", kind="stock", n=k)
        assert _ids(scratch) == ["o1", "o2"]
    update("s1", kind="order", customer="C1", amount=10)     # starts emitting
    assert _ids(scratch) == ["o1", "o2", "s1"] and _totals(scratch) == {"C1": 15, "C2": 7}
    update("s1", kind="order", customer="C2", amount=1)      # moves
    assert _totals(scratch) == {"C1": 5, "C2": 8}
    update("s1", kind="stock")                               # stops emitting
    assert _ids(scratch) == ["o1", "o2"] and _totals(scratch) == {"C1": 5, "C2": 7}
    update("o2", kind="stock")
    scratch.bulk([{"_id": "o1", "_rev": scratch.get("o1")["_rev"], "_deleted": True}])
    assert _ids(scratch) == [] and _totals(scratch) == {}
    update("s1", kind="order", customer="C3", amount=2)      # emits again, after having stopped
    assert _ids(scratch) == ["s1"] and _totals(scratch) == {"C3": 2}
