"""How a contended create on a cluster decides who created the document (oms/cas.create_all),
given the leaves the copies answer with. The copies here are a list of leaves; the real engines
are exercised by tests/integration/test_import.py and test_races_across_nodes.py."""
from oms.store import cas
from oms.store.couch import Rows


def leaf(rev: str, *ancestors: str, deleted: bool = False) -> dict:
    chain = [rev, *ancestors]
    gen = int(rev.split("-")[0])
    doc = {"_id": "order:SO-1", "_rev": rev, "_revisions": {"start": gen, "ids": [r.split("-")[1] for r in chain]}}
    if deleted:
        doc["_deleted"] = True
    return doc


class Copies:
    """A cluster's answers for one document: the create's row and the leaves every copy holds."""
    def __init__(self, row_rev: str, leaves: list[dict]):
        self.row_rev, self.held, self.deleted = row_rev, leaves, []

    def copies(self):
        return 3

    def bulk(self, docs, new_edits=None):
        if all(d.get("_deleted") for d in docs):
            self.deleted += [d["_rev"] for d in docs]
            self.held = [l for l in self.held if l["_rev"] not in self.deleted]
            return Rows([{"ok": True, "id": d["_id"], "rev": d["_rev"]} for d in docs], on_every_copy=True)
        return Rows([{"ok": True, "id": d["_id"], "rev": self.row_rev, "accepted": True} for d in docs], on_every_copy=False)

    def leaves_of(self, ids):
        return {i: list(self.held) for i in ids}

    def leaves(self, doc_id):
        return list(self.held)


def test_a_create_whose_version_was_moved_on_stands_though_another_was_created_beside_it():
    # ours (1-aaa) was already updated twice by someone who read it from a copy without the other
    # create (1-fff): the longest history, ours, is what CouchDB shows; the other create is removed.
    db = Copies("1-aaa", [leaf("3-ccc", "2-bbb", "1-aaa"), leaf("1-fff")])
    [row] = cas.create_all(db, [{"_id": "order:SO-1"}])
    assert row.get("ok") and "error" not in row
    assert db.deleted == ["1-fff"]


def test_a_create_that_lost_is_a_conflict_and_its_version_is_removed():
    db = Copies("1-aaa", [leaf("1-aaa"), leaf("1-fff")])
    [row] = cas.create_all(db, [{"_id": "order:SO-1"}])
    assert row["error"] == "conflict"
    assert db.deleted == ["1-aaa"]


def test_a_create_alone_on_every_copy_stands():
    db = Copies("1-aaa", [leaf("1-aaa")])
    [row] = cas.create_all(db, [{"_id": "order:SO-1"}])
    assert row.get("ok") and db.deleted == []
