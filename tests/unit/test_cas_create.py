"""How a contended write on a cluster decides whose write stands (oms/store/cas.py), given the
leaves the copies answer with. The copies here are a list of leaves; the real engines are
exercised by tests/integration/test_import.py, test_mirror_concurrent.py and
test_races_across_nodes.py."""
import pytest

from oms.store import cas
from oms.store.couch import Conflict, Rows, Unavailable

OURS = "(the write being settled)"


def leaf(rev: str, *ancestors: str, deleted: bool = False, write: str = "someone else's") -> dict:
    chain = [rev, *ancestors]
    gen = int(rev.split("-")[0])
    doc = {"_id": "order:SO-1", "_rev": rev, "write": write,
           "_revisions": {"start": gen, "ids": [r.split("-")[1] for r in chain]}}
    if deleted:
        doc["_deleted"] = True
    return doc


class Copies:
    """A cluster's answers for one document: the create's row, the leaves every copy holds, and
    the bodies of earlier revisions (`history`: rev -> write id, or "deleted")."""
    def __init__(self, row_rev: str, leaves: list[dict], history: dict[str, str] | None = None,
                 may_delete: bool = True):
        self.row_rev, self.held, self.deleted, self.handed = row_rev, leaves, [], []
        self.history, self.may_delete, self.mark = dict(history or {}), may_delete, None

    def copies(self):
        return 3

    def bulk(self, docs, new_edits=None):
        if new_edits is False:
            self.handed += [d["_rev"] for d in docs]
            return Rows([], on_every_copy=True)
        if all(d.get("_deleted") for d in docs):
            if not self.may_delete:
                return Rows([{"id": d["_id"], "error": "forbidden", "reason": "not yours"} for d in docs], True)
            self.deleted += [d["_rev"] for d in docs]
            self.held = [l for l in self.held if l["_rev"] not in self.deleted]
            return Rows([{"ok": True, "id": d["_id"], "rev": d["_rev"]} for d in docs], on_every_copy=True)
        self.mark = docs[0]["write"]
        self._ours()
        return Rows([{"ok": True, "id": d["_id"], "rev": self.row_rev} for d in docs], on_every_copy=False)

    def _ours(self):
        for l in self.held:
            if l["write"] == OURS:
                l["write"] = self.mark
        self.history = {r: self.mark if w == OURS else w for r, w in self.history.items()}

    def leaves_of(self, ids):
        return {i: self.leaves(i) for i in ids}

    def leaves(self, doc_id):
        return [dict(l) for l in self.held]

    def revisions(self, doc_id, revs):
        out = {}
        for r in revs:
            w = self.history.get(r)
            out[r] = None if w is None else {"_id": doc_id, "_rev": r, **(
                {"_deleted": True} if w == "deleted" else {"write": w})}
        return out


def create(db):
    [row] = cas.create_all(db, [{"_id": "order:SO-1"}])
    return row


def test_a_create_whose_version_was_moved_on_stands_though_another_was_created_beside_it():
    # ours (1-aaa) was already updated twice by someone who read it from a copy without the other
    # create (1-fff): the longest history, ours, is what CouchDB shows; the other create is removed.
    db = Copies("1-aaa", [leaf("3-ccc", "2-bbb", "1-aaa"), leaf("1-fff")], {"2-bbb": "a clerk's", "1-aaa": OURS})
    row = create(db)
    assert row.get("ok") and "error" not in row
    assert db.deleted == ["1-fff"]


def test_a_create_that_lost_is_a_conflict_and_its_version_is_removed():
    db = Copies("1-aaa", [leaf("1-aaa", write=OURS), leaf("1-fff")])
    assert create(db)["error"] == "conflict"
    assert db.deleted == ["1-aaa"]


def test_a_create_alone_on_every_copy_stands_once_every_copy_holds_it():
    db = Copies("1-aaa", [leaf("1-aaa", write=OURS)])
    assert create(db).get("ok") and db.deleted == []
    assert db.handed == ["1-aaa"]


def test_a_create_that_was_deleted_does_not_stand_on_a_create_made_over_its_deletion():
    # ours (1-aaa) lost and was deleted (2-bbb); a writer who found the document deleted created it
    # again (3-ccc), continuing the deletion's history: 3-ccc descends from ours but is not ours.
    db = Copies("1-aaa", [leaf("3-ccc", "2-bbb", "1-aaa")], {"2-bbb": "deleted", "1-aaa": OURS})
    assert create(db)["error"] == "conflict"


def test_a_create_stands_under_another_revision_where_a_copy_took_it_over_a_deletion():
    # the same write: 1-aaa on the copies that had nothing (deleted since), 3-ccc on the copy that
    # held another create's deletion (2-bbb over 1-eee).
    db = Copies("1-aaa", [leaf("1-aaa", deleted=True, write=OURS), leaf("3-ccc", "2-bbb", "1-eee", write=OURS)],
                {"2-bbb": "deleted"})
    assert create(db).get("ok")


def test_a_writer_that_may_not_delete_lets_the_winner_decide():
    won = Copies("1-fff", [leaf("1-aaa"), leaf("1-fff", write=OURS)], may_delete=False)
    assert create(won).get("ok")
    lost = Copies("1-aaa", [leaf("1-aaa", write=OURS), leaf("1-fff")], may_delete=False)
    assert create(lost)["error"] == "conflict"


def test_a_claim_moved_on_by_others_is_settled_as_written_without_reading_its_history():
    # (a hot stock document is moved on many times between a claim and its settling read, and the
    # copies keep no body of revisions that are no longer leaves)
    db = Copies("1-aaa", [], {})
    settled = cas.settle(db, "stock:X:MAIN", "5-aaa", "mine", "9-eee",
                         first_look=[leaf("9-eee", "8-ddd", "7-ccc", "6-bbb", "5-aaa")])
    assert settled["_rev"] == "9-eee" and "_revisions" not in settled


def test_a_create_whose_body_the_copies_no_longer_hold_after_it_was_moved_on_stands():
    db = Copies("1-aaa", [leaf("3-ccc", "2-bbb", "1-aaa")], {})
    assert create(db).get("ok")


class Refusing(Copies):
    """Copies where validate_doc_update refuses the hand-off `refusals` times (judged against
    another create's deletion) before the copies' own replication brings the leaf there."""
    def __init__(self, *args, refusals: int, **kw):
        super().__init__(*args, **kw)
        self.refusals = refusals

    def bulk(self, docs, new_edits=None):
        if new_edits is False and self.refusals:
            self.refusals -= 1
            return Rows([{"id": d["_id"], "error": "forbidden", "reason": "History entries cannot be edited"} for d in docs], True)
        return super().bulk(docs, new_edits)


def test_a_refused_hand_off_is_tried_again_until_every_copy_holds_the_write():
    db = Refusing("1-aaa", [leaf("1-aaa", write="mine")], refusals=2)
    settled = cas.settle(db, "order:SO-1", "1-aaa", "mine", None, sleep=lambda _: None,
                         first_look=[leaf("1-aaa", write="mine")])
    assert settled["_rev"] == "1-aaa" and db.handed == ["1-aaa"]


def test_a_write_no_copy_will_take_answers_unavailable_in_the_end():
    now = iter(range(0, 1000, 5))
    db = Refusing("1-aaa", [leaf("1-aaa", write="mine")], refusals=10 ** 6)
    with pytest.raises(Unavailable):
        cas.settle(db, "order:SO-1", "1-aaa", "mine", None, sleep=lambda _: None, clock=lambda: next(now))
