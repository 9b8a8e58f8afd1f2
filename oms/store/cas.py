"""Compare-and-swap writes that hold on every engine: the claims that must never be given twice
(stock held for an order line, a block of order numbers).

On one copy (PouchDB Server, a single CouchDB node) a write carrying the _rev it was decided on
is exact: the server refuses it with 409 when someone else wrote first. A CouchDB 3 cluster keeps
n copies of each document and takes a write once a quorum of them did: two writes decided on the
same revision can both be taken, each by some copies, and once the copies exchange them the
document holds two leaf revisions (a conflict). CouchDB then shows one of them, chosen by its
revision id, and the other writer's change is silently gone: its stock hold, its numbers.

So on a cluster a write counts only once it is settled:

1. it is written asking every copy to take it (w = n). A 201 means every copy took it as the
   next revision of the one it was decided on, so no copy can take another write decided on that
   revision any more: no conflict can start from it;
2. the document's leaves are then read from every copy (open_revs=all, r = n). Another live leaf
   there is a conflict left by an earlier race; it is resolved by keeping CouchDB's winner and
   deleting the others (their writers were never told they succeeded: they are still settling,
   and find their revision gone);
3. it is settled when one live leaf is left, it carries our write (is it, by an id of its own
   in its body, `write`; or descends from it: see `carries`), and it descends from a revision every copy holds (ours when every copy took it;
   else the leaf, handed to every copy as replication would hand it).

A write whose revision is gone raises Conflict, exactly as a 409 would: the caller reads again
and decides again. While a copy is down no write can be taken by every copy: these claims wait
and then answer 503 (Unavailable) rather than risk a second owner.

The identity that writes a claim (stock, the order-number counter: Editors and up, by
validate_doc_update) also resolves it, so it may delete the losing leaves. A writer that may not
delete (an import creating orders) leaves them for the conflicts view: CouchDB's winner decides."""
from __future__ import annotations

import contextlib
import itertools
import random
import time
import uuid

from .couch import Conflict, CouchError, Database, Forbidden, Unavailable, row_error

SETTLE_SECONDS = 20.0


def save(db: Database, doc: dict) -> dict:
    """Write `doc` (its _rev is the revision it was decided on; none for a new document) and
    return it as it now stands, settled. Raises Conflict when another write won."""
    if db.copies() == 1:
        return db.save(_mark(doc))   # (with the writes of this identity at the same moment: group commit)
    [outcome] = save_all(db, [doc])
    if isinstance(outcome, CouchError):
        raise outcome
    return outcome


def save_all(db: Database, docs: list[dict]) -> list[dict | CouchError]:
    """Write `docs` in one request; per document, in order: the document as it now stands,
    settled (its _rev set), or the error a single write of it would have raised."""
    for doc in docs:
        _mark(doc)
    if db.copies() == 1:
        return db.save_all(docs)
    creates = {doc["_id"] for doc in docs if not doc.get("_rev")}
    return _settle_written(db, docs, db.bulk(docs), creates)


def create_all(db: Database, docs: list[dict]) -> list[dict]:
    """Create `docs` (new documents that another writer may be creating at the same moment under
    the same id) in one request; result rows in order, where a create that another one beat
    reads as a 409. On a cluster both creates can be taken, each by some copies (202): they are
    settled as any claim, and the one that stands is the one CouchDB shows once they meet."""
    for doc in docs:
        _mark(doc)   # two writers creating the same content would otherwise make one revision, both "created"
    rows = db.bulk(docs)
    if _taken(rows):   # (always, on one copy)
        return rows
    out = []
    for doc, row, outcome in zip(docs, rows, _settle_written(db, docs, rows, {doc["_id"] for doc in docs})):
        if isinstance(outcome, Conflict) and "error" not in row:
            row = {"id": doc["_id"], "error": "conflict", "reason": "Document update conflict."}
        elif isinstance(outcome, CouchError) and "error" not in row:
            row = {"id": doc["_id"], "error": "unavailable" if isinstance(outcome, Unavailable) else "refused",
                   "reason": outcome.reason}
        out.append(row)
    return out


def _settle_written(db: Database, docs: list[dict], rows, creates: set[str]) -> list[dict | CouchError]:
    """Per document of a _bulk_docs on a cluster, in order: the document as it now stands,
    settled, or the error a single write of it would have raised (its row's, or the settling's).
    `creates`: the ids written as creates."""
    # Every written document's leaves in one read: most settle on this first look.
    seen = db.leaves_of(doc["_id"] for doc, row in zip(docs, rows) if "error" not in row)
    out: list[dict | CouchError] = []
    for doc, row in zip(docs, rows):
        if "error" in row:
            out.append(row_error(row))
            continue
        try:
            out.append(settle(db, doc["_id"], row["rev"], doc["write"], row["rev"] if _taken(rows) else None,
                              first_look=seen[doc["_id"]], create=doc["_id"] in creates))
        except CouchError as exc:
            out.append(exc)
    return out


def settle(db: Database, doc_id: str, ours: str, mark: str, taken_by_all: str | None, sleep=time.sleep,
           clock=time.monotonic, first_look: list[dict] | None = None, create: bool = False) -> dict:
    """Wait until the document's one live leaf carries our write (`ours`, the revision the write
    was answered with; `mark`, the write's own id) and descends from a revision every copy took
    (`taken_by_all`, if known yet); returns that leaf. Raises Conflict when our write lost.
    `first_look`: the leaves already read from every copy after the write, if any; `create`: the
    write was a create (decided on no revision).

    Our write can stand under another revision id than `ours`: a copy that held the document
    deleted (a conflict resolved a moment ago) took the same write as a new revision on top of
    that deletion. So a leaf is ours by the write's id in its body, not by its revision id."""
    deadline = clock() + SETTLE_SECONDS
    for attempt in itertools.count():
        leaves = first_look if first_look is not None and attempt == 0 else db.leaves(doc_id)
        live = [leaf for leaf in leaves if not leaf.get("_deleted")]
        if not any(leaf.get("write") == mark or descends(leaf, ours) for leaf in live):
            raise Conflict("Document update conflict")
        leaf = winner(live)
        if len(live) > 1:
            # A conflict: keep CouchDB's winner, delete the rest (ours too, if it lost), and look
            # again: a deletion that failed (someone wrote on that leaf meanwhile) shows there.
            # A writer not allowed to delete leaves them for the conflicts view: the winner decides.
            try:
                _delete(db, [other for other in live if other is not leaf])
                continue
            except Forbidden:
                pass
        if not carries(db, doc_id, leaf, ours, mark, create):
            with contextlib.suppress(CouchError):
                _delete(db, [other for other in live if other is not leaf and other.get("write") == mark])
            raise Conflict("Document update conflict")
        if taken_by_all and descends(leaf, taken_by_all):
            return _plain(leaf)
        if clock() > deadline:
            raise Unavailable(f"{doc_id} could not be written to every copy of the database; try again in a moment")
        # Some copy had not taken our revision (202): hand it the leaf itself, with its history
        # (new_edits=false, as replication does: no new revision, so nothing to race with), until
        # every copy answers that it holds it. validate_doc_update judges such a write against
        # whatever that copy holds (another create's deletion, say) and may refuse it; the
        # copies' own replication, which no validation stops, brings it there: look again.
        try:
            rows = db.bulk([leaf], new_edits=False)
        except Unavailable:
            rows = []
        if _taken(rows) and not any("error" in row for row in rows):
            taken_by_all = leaf["_rev"]
            continue
        sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 6))))
    raise AssertionError("unreachable")


def carries(db: Database, doc_id: str, leaf: dict, ours: str, mark: str, create: bool) -> bool:
    """Does the live `leaf` carry our write (`ours`, the revision it was answered with; `mark`, its
    own id)? It does when it is our write (by its id: the same write may stand under another
    revision id on a copy that took it on top of a deletion), or descends from our revision.

    Descending is not enough for a create: a resolver deletes a losing create, and a create on a
    deleted document continues the deletion's history, so a leaf written by someone who never saw
    our create can descend from it. The revision after ours is read then: a deletion there means
    ours lost. (An update cannot meet this: it was decided on a live revision, losing leaves are
    deleted only while another live one stands, and a document is created again only where no
    live leaf is left, which a claim's documents, created once, never are.) A revision the copies
    hold no body of (compaction drops the bodies of revisions that are no longer leaves) is taken
    as no deletion."""
    if leaf.get("write") == mark:
        return True
    if not descends(leaf, ours):
        return False
    history = leaf["_revisions"]
    gen, start = int(ours.partition("-")[0]), history["start"]
    if not create or start == gen:
        return True
    after = f"{gen + 1}-{history['ids'][start - gen - 1]}"
    body = db.revisions(doc_id, [after]).get(after)
    return not (body and body.get("_deleted"))


def descends(leaf: dict, rev: str) -> bool:
    """Is `rev` the leaf's revision or one of its ancestors (by its `_revisions`)?"""
    gen, _, hash_ = rev.partition("-")
    history = leaf.get("_revisions") or {}
    i = history.get("start", 0) - int(gen)
    ids = history.get("ids") or []
    return 0 <= i < len(ids) and ids[i] == hash_


def winner(leaves: list[dict]) -> dict:
    """The revision CouchDB shows among live leaves: the longest history, then the greatest id."""
    def rank(leaf):
        gen, _, hash_ = leaf["_rev"].partition("-")
        return int(gen), hash_
    return max(leaves, key=rank)


def _delete(db: Database, leaves: list[dict]) -> None:
    """Delete these leaves (a lost race or a concurrent resolver makes some deletions fail: the
    next read shows what is left). A deletion carries the body it deletes: validate_doc_update
    checks it as it would a write (a counter's deletion still holds its value: it never goes back)."""
    rows = db.bulk([dict(_plain(leaf), _deleted=True) for leaf in leaves])
    for row in rows:
        if row.get("error") == "forbidden":
            raise row_error(row)


def _taken(rows) -> bool:
    """Did every copy take every write of this _bulk_docs (couch.Rows)?"""
    return getattr(rows, "on_every_copy", False)


def _mark(doc: dict) -> dict:
    """Give the write an id of its own. CouchDB derives a revision id from the content and the
    revision it follows: two writers making the same change on the same revision (two claims of
    the same block of numbers) would make one and the same revision, taken by each as its own."""
    doc["write"] = uuid.uuid4().hex
    return doc


def _plain(leaf: dict) -> dict:
    return {k: v for k, v in leaf.items() if k != "_revisions"}
