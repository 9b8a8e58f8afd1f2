"""Reads a view for one person, a page at a time, by key (never skip).

Design views are keyed [principal, ...sort key..., unique tail]: principal is "*" for orders anyone
may read, or a name/role from the order's Readers and Authors fields. A person's rows are the
union of their principals' key ranges ("*", their name, their roles), merged here in key order and
deduplicated (an order naming someone twice is indexed twice). Every key ends in a unique value
(the order number), so the next page starts just after the last key seen: PouchDB Server ignores
startkey_docid, so we never rely on it, and page 2,000 costs what page 1 costs.

A Source may narrow the ranges with segments (fixed key prefixes after the principal: a category,
a stage, each of a person's roles), walked one after another in the given order (so the merge never
compares keys across segments), and with a lower/upper bound inside each segment."""
from __future__ import annotations

import heapq
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .collate import couch_key

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="view-range")
HIGH = {}  # sorts after every other JSON value: the end of a key range


@dataclass(frozen=True)
class Source:
    design: str
    view: str
    principals: tuple[str, ...]
    segments: tuple[tuple, ...] = ((),)
    lower: tuple = ()                 # inside each segment, keys from [*segment, *lower] ...
    upper: tuple | None = None        # ... to before [*segment, *upper]
    descending: bool = False


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
    return key if isinstance(key, list) and all(isinstance(k, (str, int, float)) for k in key) else None


def row_id(row: dict) -> tuple:
    """A row's identity across principals: the same order under the same key."""
    return row["id"], json.dumps(row["key"][1:])


def _range(db, src: Source, principal: str, segment: tuple, cursor: list | None, desc: bool,
           limit: int) -> list[dict]:
    """Up to `limit` rows of one principal in one segment, strictly after `cursor` (a key without
    its principal) in the direction of reading."""
    low = [principal, *segment, *src.lower]
    high = [principal, *segment, *src.upper] if src.upper is not None else [principal, *segment, HIGH]
    start, end = (high, low) if desc else (low, high)
    if cursor is not None:
        at = [principal, *cursor]
        inside = couch_key(at) >= couch_key(low) and couch_key(at) <= couch_key(high)
        if inside:
            start = at
        elif (couch_key(at) < couch_key(low)) == desc:
            return []  # the cursor is past this segment already
    res = db.view(src.design, src.view, start_key=start, end_key=end, descending=desc,
                  limit=limit + 1, reduce=False)
    rows = [r for r in res["rows"] if cursor is None or r["key"][1:] != cursor]
    return rows[:limit]


def _segment_rows(db, src, segment, cursor, desc, limit) -> list[dict]:
    """The first `limit` distinct rows of a person's principals in one segment."""
    ranges = list(_pool.map(lambda p: _range(db, src, p, segment, cursor, desc, limit), src.principals))
    merged = heapq.merge(*ranges, key=lambda r: couch_key(r["key"][1:]), reverse=desc)
    out, seen = [], set()
    for row in merged:
        rid = row_id(row)
        if rid in seen:
            continue
        seen.add(rid)
        out.append(row)
        if len(out) >= limit:
            break
    return out


def _segment_of(src: Source, cursor: list) -> int:
    for i, seg in enumerate(src.segments):
        if tuple(cursor[: len(seg)]) == tuple(seg):
            return i
    return -1


def _walk(db, src: Source, cursor: list | None, desc: bool, want: int) -> list[dict]:
    """Up to `want` rows after `cursor`, walking segments in order (reversed when descending)."""
    order = list(range(len(src.segments)))
    if desc:
        order.reverse()
    if cursor is not None:
        at = _segment_of(src, cursor)
        if at < 0:
            return []
        order = order[order.index(at):]
    rows: list[dict] = []
    for n, i in enumerate(order):
        seg_cursor = cursor if (n == 0 and cursor is not None) else None
        rows += _segment_rows(db, src, src.segments[i], seg_cursor, desc, want - len(rows))
        if len(rows) >= want:
            break
    return rows


def read(db, src: Source, after: list | None = None, before: list | None = None, limit: int = 50) -> Page:
    """One page: the `limit` rows after `after` (or, going back, before `before`)."""
    back = before is not None
    rows = _walk(db, src, before if back else after, src.descending != back, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if back:
        rows.reverse()
        return Page(rows, next_after=rows[-1]["key"][1:] if rows else None,
                    prev_before=rows[0]["key"][1:] if rows and more else None)
    return Page(rows, next_after=rows[-1]["key"][1:] if rows and more else None,
                prev_before=rows[0]["key"][1:] if rows and after is not None else None)


def iter_rows(db, src: Source, batch: int = 500):
    """Every row of the source, a batch at a time (memory stays flat: CSV export)."""
    after = None
    while True:
        page = read(db, src, after=after, limit=batch)
        yield from page.rows
        if page.next_after is None:
            return
        after = page.next_after


def read_page(db, vd, access, after: list | None = None, before: list | None = None,
              limit: int | None = None) -> Page:
    """A page of catalog view `vd` in its default order, as `access` may read it."""
    return read(db, vd.source(access), after=after, before=before, limit=limit or vd.page_size)
