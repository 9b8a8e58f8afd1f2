"""Notifications as people read them in the web app: addressed to their name or one of their
roles (the agents write them, oms/agents/base.notify), newest first, and how many are new since
they last looked (a `seen:<name>` document each person writes for themselves)."""
from __future__ import annotations

import heapq

from oms.core.clock import utcnow
from oms.identity.acl import Access
from oms.store.couch import Conflict, Database


def principals(access: Access) -> list[str]:
    return [access.name, *access.roles]


def _range(db: Database, principal: str, before: list | None, limit: int, since: str | None = None) -> list[dict]:
    start = [principal, *before] if before else [principal, {}]
    end = [principal, since] if since else [principal]
    rows = db.view("automation", "notifications_by_recipient", start_key=start, end_key=end,
                   descending=True, limit=limit + 1)["rows"]
    return [r for r in rows if not before or r["key"][1:] != before]


def page(db: Database, access: Access, before: list | None = None, limit: int = 50):
    """(notifications newest first, cursor for older ones or None)."""
    ranges = [_range(db, p, before, limit) for p in principals(access)]
    merged = heapq.merge(*ranges, key=lambda r: r["key"][1:], reverse=True)
    ids, keys = [], []
    for r in merged:
        if r["id"] in ids:
            continue
        ids.append(r["id"])
        keys.append(r["key"][1:])
        if len(ids) > limit:
            break
    more = len(ids) > limit
    ids, keys = ids[:limit], keys[:limit]
    docs = [r["doc"] for r in db.all_docs(keys=ids, include_docs=True)["rows"] if r.get("doc")] if ids else []
    return docs, (keys[-1] if more and keys else None)


def last_seen(db: Database, access: Access) -> str:
    doc = db.get_or_none(f"seen:{access.name}")
    return doc["at"] if doc else ""


def mark_seen(db: Database, access: Access, now: str | None = None) -> None:
    doc = db.get_or_none(f"seen:{access.name}") or {"_id": f"seen:{access.name}", "type": "notification_seen",
                                                   "name": access.name}
    doc["at"] = now or utcnow()
    try:
        db.save(doc)
    except Conflict:
        pass   # another tab marked them at the same moment


def unseen(db: Database, access: Access, most: int = 99) -> int:
    since = last_seen(db, access)
    ids = set()
    for p in principals(access):
        for r in _range(db, p, None, most, since=since or None):
            if r["key"][1] > since:
                ids.add(r["id"])
    return len(ids)
