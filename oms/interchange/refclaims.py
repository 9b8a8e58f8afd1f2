"""Import claims of external references (an ERP's order numbers, Notes UNIDs): what makes an
import create each order once, however often and however concurrently its file is imported.

A reference's claim is written BEFORE its order, by a write that conflicts when someone else
claimed first, and holds the order number reserved for it. So a re-run, an overlapping file or a
concurrent import finds the claim and never creates a second order; a changed record under a
claimed reference is told by the claim's fingerprint; and a run that stopped between a claim and
its order is finished by the next run, under the reserved number (the order id is the number's).

References that differ only in their last two digits share one document (one document per
reference would make as many claim documents as orders):

    refclaims:<kind>:<prefix>   {"refs": {"EXT-0004711": {"number", "fingerprint", "by", "at"}, ...}}

where the prefix is the reference without its last two digits (EXT-0004711 -> EXT-00047). A
file of sequential references (the usual export of an ERP or a shop) writes one claim document
per hundred orders; references that end in a letter get a document each, as before. A document
holds at most 110 claims (a prefix and 0-2 digits), so it stays small however big the database.

- Race-free: claims are added to their document as an update of the revision read. A concurrent
  writer makes it conflict (409; PouchDB Server may answer 403 instead, as it validates against
  the current revision first): the document is read again, a reference claimed meanwhile is
  adopted (its number, not ours, and no second order), the rest is written again.
- validate_doc_update (lib/records.js, ref_claims): a claim once written never changes or
  goes, a new one names its writer (as every write, it is made as the importing person), and a
  reference sits in the document its prefix names.
- Replication (offline sites): two sites that add claims to one document make a CouchDB
  conflict. Claims only ever grow, so reading merges every leaf revision's claims, and the next
  write, on the winner, carries them all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from oms.store import cas
from oms.store.couch import Conflict, CouchError, Database, Forbidden

ID_PREFIX = "refclaims:"
_DIGITS = frozenset("0123456789")


def prefix_of(ref: str) -> str:
    """`ref` without its last two digits (fewer if it ends in fewer). ASCII digits only, as in
    lib/records.js (JavaScript would count other digits differently)."""
    i = len(ref)
    while i > 0 and i > len(ref) - 2 and ref[i - 1] in _DIGITS:
        i -= 1
    return ref[:i]


def doc_id(kind: str, ref: str) -> str:
    return f"{ID_PREFIX}{kind}:{prefix_of(ref)}"


@dataclass
class Claim:
    number: str
    fingerprint: str
    mine: bool = False      # written just now, by this claim() call
    done: bool = False      # an old claim that recorded its outcome: its order exists


class ClaimBook:
    """The claims of one kind of reference, as one person reads and writes them. Not shared
    between threads: one import uses one book."""

    def __init__(self, db: Database, kind: str, person: str, clock: Callable[[], str]):
        self.db, self.kind, self.person, self.clock = db, kind, person, clock
        self._docs: dict[str, dict | None] = {}   # claim documents read or written (None: none yet)

    # ---------------------------------------------------------------- reading
    def load(self, refs: Iterable[str], chunk: int = 1000) -> None:
        """Read the documents of `refs` not read yet (one request per `chunk` documents)."""
        wanted = list(dict.fromkeys(i for i in map(self._id, refs) if i not in self._docs))
        for start in range(0, len(wanted), chunk):
            self._read(wanted[start:start + chunk])

    def find(self, refs: Iterable[str]) -> dict[str, Claim]:
        """The claims that stand for `refs` (those claimed), from their documents."""
        refs = list(refs)
        self.load(refs)
        found = {}
        for ref in refs:
            entry = ((self._docs.get(self._id(ref)) or {}).get("refs") or {}).get(ref)
            if entry:
                found[ref] = Claim(entry["number"], entry["fingerprint"])
        return found

    def _id(self, ref: str) -> str:
        return doc_id(self.kind, ref)

    def _read(self, ids: list[str]) -> None:
        rows = self.db.all_docs(keys=ids, include_docs=True, conflicts=True)["rows"]
        for row in rows:
            doc = row.get("doc")
            if doc and doc.get("_conflicts"):
                doc = self._merged(doc)
            self._docs[row["key"]] = doc if doc and doc.get("type") == "ref_claims" else None

    def _merged(self, doc: dict) -> dict:
        """A document with replication conflicts: the winner with every other leaf's claims."""
        refs = dict(doc.get("refs") or {})
        for other in self.db.open_revs(doc["_id"], doc["_conflicts"]):
            for ref, entry in (other.get("refs") or {}).items():
                refs.setdefault(ref, entry)
        merged = {k: v for k, v in doc.items() if k != "_conflicts"}
        merged["refs"] = refs
        return merged

    # ---------------------------------------------------------------- writing
    def claim(self, wanted: list[tuple[str, str, str]], attempts: int = 6) -> tuple[dict[str, Claim], dict[str, str]]:
        """Claim each (ref, fingerprint, reserved number) not claimed yet (find() first). Returns
        the claims that stand, ours (mine=True) or a concurrent writer's, and the references the
        database refused to claim, with its reason."""
        pending = {ref: (fp, number) for ref, fp, number in wanted}
        standing: dict[str, Claim] = {}
        refused: dict[str, str] = {}
        for _ in range(attempts):
            if not pending:
                break
            by_doc: dict[str, list[str]] = {}
            for ref in pending:
                by_doc.setdefault(self._id(ref), []).append(ref)
            docs = []
            at = self.clock()
            for did, refs in by_doc.items():
                current = self._docs.get(did)
                doc = {"_id": did, "type": "ref_claims", "kind": self.kind, "prefix": prefix_of(refs[0]),
                       "refs": dict((current or {}).get("refs") or {})}
                if current:
                    doc["_rev"] = current["_rev"]
                for ref in refs:
                    fp, number = pending[ref]
                    doc["refs"][ref] = {"number": number, "fingerprint": fp, "by": self.person, "at": at}
                docs.append(doc)
            again = []
            # Settled (oms/store/cas.py): on a cluster a claim counts once every copy holds it and no
            # other version of its document is left; one that lost comes back as a 409.
            for doc, res in zip(docs, cas.save_all(self.db, docs)):
                refs = by_doc[doc["_id"]]
                if not isinstance(res, CouchError):
                    self._docs[doc["_id"]] = res
                    for ref in refs:
                        fp, number = pending.pop(ref)
                        standing[ref] = Claim(number, fp, mine=True)
                elif isinstance(res, (Conflict, Forbidden)):
                    again.append((doc, res))
                else:
                    for ref in refs:
                        pending.pop(ref)
                        refused[ref] = res.reason
            if not again:
                break
            # Someone else wrote these documents since we read them (or the database refused our
            # claims): read them again; a reference claimed meanwhile is theirs, the rest retried.
            stale = [doc["_id"] for doc, _ in again]
            for did in stale:
                self._docs.pop(did, None)
            self._read(stale)
            for doc, res in again:
                now = self._docs.get(doc["_id"])
                for ref in by_doc[doc["_id"]]:
                    entry = ((now or {}).get("refs") or {}).get(ref)
                    if entry:
                        pending.pop(ref)
                        standing[ref] = Claim(entry["number"], entry["fingerprint"])
                    elif isinstance(res, Forbidden):
                        pending.pop(ref)     # nobody raced us (a stale write is a Conflict): refused
                        refused[ref] = res.reason
        for ref in pending:
            refused[ref] = "the claims of this reference are too busy; import it again in a moment"
        return standing, refused
