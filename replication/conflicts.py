"""Replication conflicts: the same order edited at two sites (or at the centre and a partner)
ends with competing revisions. CouchDB keeps them all and picks a winner by rule; here nothing is
lost silently:

- `compare` lays the versions side by side, field by field, against their common ancestor (the
  last revision both paths share, or, when compaction removed its body, the common part of the
  append-only history);
- `auto_merge` (the centre's agent, as the system identity) merges edits of different fields by
  itself, and drops a version that changed nothing (a partner copy the centre set back);
- `resolve` lets a person with the right level (Editor and above, rules/acl.json) take each field
  from the version they choose, or keep one version whole.

Both write one new revision on top of the chosen base, whose single history entry records what
was merged and the values left behind ("merged"), then delete the other versions with a
tombstone that keeps `type` and `partner` (so a partner's copy, filtered on `partner`, receives
the deletion too). validate_doc_update checks the new revision like any edit."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from oms.core import rules
from oms.core.errors import InvalidInput
from oms.identity.acl import Access
from oms.store.couch import Conflict, Database, Forbidden, NotFound

# Fields that are bookkeeping, not content: never compared, never chosen.
BOOKKEEPING = {"_id", "_rev", "_revisions", "_conflicts", "_deleted_conflicts", "history",
               "updated_at", "updated_by"}
# A field that follows another when a person chooses (the totals belong to the lines).
FOLLOWS = {"totals": "lines"}
MISSING = object()


def _path(doc: dict) -> list[str]:
    revs = doc.get("_revisions") or {}
    start, ids = revs.get("start", 0), revs.get("ids", [])
    return [f"{start - i}-{rid}" for i, rid in enumerate(ids)]


def _pos(rev: str) -> int:
    return int(rev.split("-", 1)[0])


def _common_history(leaves: list[dict]) -> int:
    """Length of the history all versions share (history is append-only)."""
    hs = [leaf.get("history") or [] for leaf in leaves]
    n = 0
    while all(len(h) > n for h in hs) and all(json.dumps(h[n], sort_keys=True) == json.dumps(hs[0][n], sort_keys=True) for h in hs):
        n += 1
    return n


@dataclass
class FieldRow:
    name: str
    values: list                      # one per version (MISSING when absent)
    ancestor: object = MISSING
    changed_in: list[int] = field(default_factory=list)   # versions that changed it since the fork

    @property
    def differs(self) -> bool:
        first = json.dumps(self.values[0], sort_keys=True, default=str)
        return any(json.dumps(v, sort_keys=True, default=str) != first for v in self.values[1:])


@dataclass
class Versions:
    doc_id: str
    leaves: list[dict]                # the winner first
    ancestor: dict | None             # the common ancestor's body, when the server still has it
    fork: int                         # history entries all versions share
    fields: list[FieldRow]
    known: bool                       # True when the changes since the fork are known exactly

    @property
    def revs(self) -> list[str]:
        return [leaf["_rev"] for leaf in self.leaves]

    def new_entries(self, i: int) -> list[dict]:
        return (self.leaves[i].get("history") or [])[self.fork:]

    def changed_by(self, i: int) -> set[str]:
        return {row.name for row in self.fields if i in row.changed_in}

    @property
    def differing(self) -> list[FieldRow]:
        return [row for row in self.fields if row.differs]


def compare(db: Database, doc_id: str) -> Versions | None:
    """The competing versions of a document, or None when it has none."""
    try:
        top = db.get(doc_id, conflicts=True, revs=True)
    except NotFound:
        return None
    others = top.get("_conflicts") or []
    if not others:
        return None
    leaves = [top] + [db.get(doc_id, rev=rev, revs=True) for rev in others]
    shared = set(_path(leaves[0]))
    for leaf in leaves[1:]:
        shared &= set(_path(leaf))
    ancestor = None
    for rev in sorted(shared, key=_pos, reverse=True):
        try:
            ancestor = db.get(doc_id, rev=rev)
            break
        except NotFound:
            continue  # compacted away (CouchDB keeps only leaf bodies): the history tells
    fork = _common_history(leaves)
    names = sorted(set().union(*(set(leaf) for leaf in leaves)) - BOOKKEEPING)
    rows, known = [], ancestor is not None
    by_history = None if known else _changed_by_history(leaves, fork)
    if by_history is not None:
        known = True
    for name in names:
        row = FieldRow(name, [leaf.get(name, MISSING) for leaf in leaves],
                       ancestor.get(name, MISSING) if ancestor else MISSING)
        for i, leaf in enumerate(leaves):
            if ancestor is not None:
                if json.dumps(leaf.get(name), sort_keys=True) != json.dumps(ancestor.get(name), sort_keys=True):
                    row.changed_in.append(i)
            elif by_history is not None and name in by_history[i]:
                row.changed_in.append(i)
        rows.append(row)
    return Versions(doc_id, leaves, ancestor, fork, rows, known)


def _changed_by_history(leaves: list[dict], fork: int) -> list[set[str]] | None:
    """Fields each version changed since the fork, from its history entries' `changes` lists
    (what workflow.apply records); None when an entry does not say."""
    out = []
    for leaf in leaves:
        changed: set[str] = set()
        for entry in (leaf.get("history") or [])[fork:]:
            if entry.get("from") != entry.get("to"):
                changed.add("status")
            if "changes" in entry:
                changed.update(entry["changes"])
            elif entry.get("action") == "edit":
                return None
            t = next((t for t in rules.workflow()["transitions"] if t["name"] == entry.get("action")), None)
            if t:
                changed.update(t.get("sets", ()))
        out.append(changed)
    return out


# -- writing -----------------------------------------------------------------------------------------

def _tombstone(leaf: dict) -> dict:
    stone = {"_id": leaf["_id"], "_rev": leaf["_rev"], "_deleted": True}
    for key in ("type", "partner"):
        if key in leaf:
            stone[key] = leaf[key]
    return stone


def _write(db: Database, access: Access, v: Versions, base_i: int, take: dict, now: str, reason: str) -> dict:
    """One new revision on top of version `base_i` with the fields in `take`, recording the other
    versions' history and the values left behind; then the other versions are deleted."""
    base = v.leaves[base_i]
    new = {k: copy.deepcopy(val) for k, val in base.items() if k not in ("_conflicts", "_revisions")}
    for name, value in take.items():
        if value is MISSING:
            new.pop(name, None)
        else:
            new[name] = copy.deepcopy(value)
    # Every version, the base included: the values of it the result leaves behind, and (for the
    # others) its history since the versions parted, which the result's history does not hold.
    merged = []
    for i, leaf in enumerate(v.leaves):
        left = {row.name: row.values[i] for row in v.fields
                if row.values[i] is not MISSING and json.dumps(row.values[i], sort_keys=True, default=str)
                != json.dumps(new.get(row.name, None), sort_keys=True, default=str)}
        merged.append({"rev": leaf["_rev"], "kept_as_base": i == base_i, "left": left,
                       "entries": [] if i == base_i else v.new_entries(i)})
    entry = {"at": now, "by": access.name, "action": "edit", "from": base["status"], "to": base["status"],
             "reason": reason, "changes": sorted(take), "merged": merged}
    new["updated_by"], new["updated_at"] = access.name, now
    new["history"] = list(base.get("history") or []) + [entry]
    saved = db.save(new)
    drop(db, [leaf for i, leaf in enumerate(v.leaves) if i != base_i])
    return saved


def drop(db: Database, leaves: list[dict]) -> None:
    for leaf in leaves:
        try:
            db.save(_tombstone(leaf))
        except Conflict:
            pass  # already gone (resolved elsewhere, replicated here)


def auto_merge(db: Database, access: Access, doc_id: str, now: str) -> str:
    """Merge a conflicted order by itself when the versions changed different fields. Returns
    what happened: 'none', 'dropped' (versions that changed nothing removed), 'merged', or
    'person: <why>' when a person must decide (nothing is written then)."""
    v = compare(db, doc_id)
    if v is None:
        return "none"
    if v.ancestor is None and v.fork == 0:
        return "person: the versions share no history (two different documents under one id?)"
    if not v.known:
        return "person: what each version changed cannot be told (no common revision body, no change list)"
    contributing = [i for i in range(len(v.leaves)) if v.changed_by(i) or v.new_entries(i)]
    if len(contributing) <= 1:
        keep = contributing[0] if contributing else 0
        drop(db, [leaf for i, leaf in enumerate(v.leaves) if i != keep])
        return "dropped"
    for row in v.fields:
        if len(row.changed_in) > 1:
            values = {json.dumps(row.values[i], sort_keys=True, default=str) for i in row.changed_in}
            if len(values) > 1:
                return f"person: {row.name} was changed differently in {len(row.changed_in)} versions"
    status_from = [i for i in contributing if "status" in v.changed_by(i)]
    base_i = status_from[0] if status_from else contributing[0]
    take = {}
    for i in contributing:
        if i == base_i:
            continue
        for name in v.changed_by(i):
            take[name] = v.leaves[i].get(name, MISSING)
    try:
        _write(db, access, v, base_i, take, now, "Automatic merge of versions from replication (different fields)")
    except Forbidden as exc:
        return f"person: the merge was refused: {exc.reason}"
    except Conflict:
        return "person: the order changed while merging; try again"
    return "merged"


def resolve(db: Database, access: Access, doc_id: str, revs: list[str], choices: dict[str, str],
            keep: str | None, now: str) -> dict:
    """A person's decision. `revs` are the versions they saw (winner first); `keep` keeps one
    version whole; otherwise `choices` names, per differing field, the version to take it from
    (unnamed fields stay as in the version chosen for `status`, or the winner)."""
    if not access.at_least("editor"):
        raise Forbidden(f"As {access.level_title} you may not resolve conflicts; an Editor or above decides.")
    v = compare(db, doc_id)
    if v is None:
        raise Conflict("this order has no competing versions any more (resolved already?)")
    if sorted(revs) != sorted(v.revs):
        raise Conflict("the versions changed since you opened them; reload and decide again")
    if keep is not None:
        if keep not in v.revs:
            raise InvalidInput(f"keep must be one of {', '.join(v.revs)}")
        return _write(db, access, v, v.revs.index(keep), {}, now, "Kept one version of a replication conflict")
    for name, rev in choices.items():
        if rev not in v.revs:
            raise InvalidInput(f"{name}: choose one of the versions {', '.join(v.revs)}")
    differing = {row.name for row in v.differing}
    unknown = sorted(set(choices) - differing - set(FOLLOWS))
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} do not differ between the versions; choose among {', '.join(sorted(differing))}")
    for name, leader in FOLLOWS.items():
        if leader in choices:
            choices[name] = choices[leader]
    base_rev = choices.get("status", v.revs[0])
    base_i = v.revs.index(base_rev)
    take = {}
    for name, rev in choices.items():
        i = v.revs.index(rev)
        if i != base_i:
            take[name] = v.leaves[i].get(name, MISSING)
    return _write(db, access, v, base_i, take, now, "Merged versions of a replication conflict")


def conflicted_orders(db: Database, limit: int = 200) -> list[str]:
    """Ids of orders with competing versions, from the orders_conflicts view (all principals)."""
    rows = db.view("oms", "orders_conflicts", reduce=False, limit=limit)["rows"]
    seen, out = set(), []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            out.append(row["id"])
    return out
