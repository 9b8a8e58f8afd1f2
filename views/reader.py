"""Reads a catalog view for one person, a page at a time, by key (never skip).

Design views are keyed [principal, ...sort key] where principal is "*" for orders anyone may
read, or a name/role from the order's Readers and Authors fields. A person's rows are the union
of a few key ranges ("*", their name, their roles), merged here in sort order. Every key ends in
a unique value, so the next page starts after the last key seen: PouchDB Server ignores
startkey_docid, so we never rely on it."""
from __future__ import annotations

import heapq
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from oms.acl import Access

from .catalog import ViewDef

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="view-range")


@dataclass
class Page:
    rows: list[dict]
    next_after: list | None = None       # pass as `after` for the next page
    prev_before: list | None = None      # pass as `before` for the previous page
    extra: dict = field(default_factory=dict)


def encode_cursor(key: list | None) -> str | None:
    return None if key is None else json.dumps(key, separators=(",", ":"))


def decode_cursor(text: str | None) -> list | None:
    if not text:
        return None
    try:
        key = json.loads(text)
    except ValueError:
        return None
    return key if isinstance(key, list) else None


def _range(db, vd: ViewDef, principal: str, after, before, limit: int) -> list[dict]:
    if before is not None:
        res = db.view(vd.design, vd.view, start_key=[principal, *before], end_key=[principal],
                      descending=True, limit=limit + 1)
        rows = [r for r in res["rows"] if r["key"][1:] != before]
    else:
        start = [principal, *after] if after is not None else [principal]
        res = db.view(vd.design, vd.view, start_key=start, end_key=[principal, {}], limit=limit + 1)
        rows = [r for r in res["rows"] if after is None or r["key"][1:] != after]
    return rows[:limit]


def read_page(db, vd: ViewDef, access: Access, after: list | None = None,
              before: list | None = None, limit: int | None = None) -> Page:
    limit = limit or vd.page_size
    principals = access.principals
    ranges = list(_pool.map(lambda p: _range(db, vd, p, after, before, limit + 1), principals))
    sort = (lambda r: r["key"][1:])
    merged = heapq.merge(*ranges, key=sort, reverse=before is not None)
    rows, seen = [], set()
    for row in merged:
        if row["id"] in seen:
            continue
        seen.add(row["id"])
        rows.append(row)
        if len(rows) > limit:
            break
    more = len(rows) > limit
    rows = rows[:limit]
    if before is not None:
        rows.reverse()
        page = Page(rows, next_after=rows[-1]["key"][1:] if rows else None,
                    prev_before=rows[0]["key"][1:] if rows and more else None)
    else:
        page = Page(rows, next_after=rows[-1]["key"][1:] if rows and more else None,
                    prev_before=rows[0]["key"][1:] if rows and after is not None else None)
    return page
