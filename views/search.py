"""Search orders by number, customer (name, any word of it, id), SKU or partner, honouring Readers
fields: a prefix range on one term of the design view orders_search ([principal, term, number]),
per principal of the person, merged and deduplicated."""
from __future__ import annotations

from oms.identity.acl import Access

from .collate import sortable
from .reader import Source, iter_rows, read

DESIGN, VIEW = "oms", "orders_search"
LIMIT = 50


def term(query: str) -> str:
    """A query as the view's terms are written: "SO-000123" -> "so000123", "Acme Ltd" ->
    "acmeltd" (which prefixes the full-name term), "wid-1" -> "wid1", "0081" -> "81"."""
    t = sortable(query)[:80]
    # Digits alone are an order number however many zeros are typed: "0081" finds SO-000081
    # through its term "81" (the view writes the number without leading zeros too).
    return (t.lstrip("0") or t[:1]) if t.isdigit() else t


def source(access: Access, query: str) -> Source | None:
    t = term(query)
    if not t:
        return None
    # "\ufff0" after the term ends the prefix range on every server (CouchDB's documented idiom).
    return Source(DESIGN, VIEW, tuple(access.principals), ((),), lower=(t,), upper=(t + "\ufff0",))


def _distinct(rows):
    seen = set()
    for r in rows:
        if r["id"] not in seen:
            seen.add(r["id"])
            yield r


def search(db, access: Access, query: str, limit: int = LIMIT) -> tuple[list[dict], bool]:
    """(rows, more): the first `limit` orders matching `query`, each once."""
    src = source(access, query)
    if src is None:
        return [], False
    rows, after = [], None
    # An order matches through several terms at most a handful of times: read a little more
    # than asked so duplicates rarely leave the page short.
    while len(rows) <= limit:
        page = read(db, src, after=after, limit=limit * 2)
        seen = {r["id"] for r in rows}
        rows += [r for r in _distinct(page.rows) if r["id"] not in seen]
        if page.next_after is None:
            break
        after = page.next_after
    return rows[:limit], len(rows) > limit


def iter_matches(db, access: Access, query: str):
    """Every matching order once (CSV export of a search). Memory: the ids seen so far."""
    src = source(access, query)
    if src is not None:
        yield from _distinct(iter_rows(db, src))
