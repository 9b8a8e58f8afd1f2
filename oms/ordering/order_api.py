"""Order operations as API clients ask for them: idempotent creates, actions with input in the
same shape as creates (amend takes lines like a new order), and comments as response documents.
No Flask here: webapp/api/v1.py and webapp/api/orders.py are thin handlers over these functions."""
from __future__ import annotations

import uuid
from typing import Callable

from oms.core.errors import InvalidInput
from oms.store.couch import Conflict, Forbidden
from oms.store.idempotency import Idempotency, Outcome, is_same_create

from . import orders
from .orders import OrderService, new_order, order_id


def validate_new(svc: OrderService, data) -> None:
    """The checks create() makes, without taking a number (so bad input burns none)."""
    if not isinstance(data, dict):
        raise InvalidInput("the order must be a JSON object")
    new_order(data, "SO-000000", svc.access, svc.customer(data.get("customer")), svc.clock(),
              svc.book(data.get("lines")))


def create_order(svc: OrderService, data: dict, key: str | None, fp: str,
                 location: Callable[[str], str]) -> Outcome:
    """Create an order; with an Idempotency-Key, the same key and body twice create it once."""
    def answer(doc: dict) -> dict:
        # Each line's answer at placement (available / partial / backorder), not stored on the
        # order but kept with the idempotency record, so a replay answers exactly the same.
        availability = getattr(svc, "availability", None)
        return doc if availability is None else {**doc, "availability": availability}

    if not key:
        doc = svc.create(data)
        return Outcome(201, answer(doc), location(doc["number"]))

    def reserve() -> dict:
        validate_new(svc, data)
        return {"number": svc.numbers.next(svc.db)}

    def perform(reserved: dict) -> Outcome:
        number = reserved["number"]
        doc = _earlier_attempt(svc, order_id(number))
        if doc is None:
            try:
                doc = answer(svc.create(data, number=number))
            except (Conflict, Forbidden):
                doc = _earlier_attempt(svc, order_id(number))
                if doc is None:
                    raise
        return Outcome(201, doc, location(number))

    return Idempotency(svc.db, svc.access.name, svc.clock).run(key, fp, reserve=reserve, perform=perform)


def _earlier_attempt(svc: OrderService, doc_id: str) -> dict | None:
    """The document an earlier attempt of this very request wrote at its reserved id, if any.
    Looked up first because PouchDB Server runs validate_doc_update before it notices that a
    document exists (CouchDB 3 answers 409 first), so a repeated create may come back as 403."""
    doc = svc.db.get_or_none(doc_id)
    if doc is None:
        return None
    if not is_same_create(doc, svc.access.name) and doc.get("by") != svc.access.name:
        raise Conflict(f"{doc_id} exists and was not written by this request")
    return doc


def act(svc: OrderService, number: str, body: dict) -> dict:
    """POST .../actions {action, reason?, changes?, rev?}. Amend takes `changes.lines` in the
    input shape of a new order ({sku, qty, unit_price}) and recomputes totals and the version."""
    if not isinstance(body, dict):
        raise InvalidInput('send {"action": "submit", "reason": "...", "changes": {}, "rev": "..."}')
    unknown = sorted(set(body) - {"action", "reason", "changes", "rev"})
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; allowed: action, reason, changes, rev")
    action = body.get("action")
    if not isinstance(action, str) or not action:
        raise InvalidInput('action is required, e.g. "submit"')
    changes = body.get("changes") or {}
    if not isinstance(changes, dict):
        raise InvalidInput("changes must be an object of field: new value")
    for name in ("reason", "rev"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise InvalidInput(f"{name} must be text")
    if action == "amend":  # keeps the old version, gives back stock, runs credit/stock again
        return svc.amend(number, changes.get("lines"), body.get("reason"), rev=body.get("rev"))
    if "lines" in changes:
        lines, totals = svc.reprice(svc.get(number), changes["lines"])
        changes = dict(changes, lines=lines, totals=totals)
    return svc.act(number, action, body.get("reason"), changes, body.get("rev"))


# -- comments: response documents {type: "comment", parent: "order:SO-...", text, by, at}
MAX_COMMENT = 4000


def comment_id() -> str:
    """comment:<uuid> whose first bits are the time in ms (like a UUIDv7): comments posted in the
    same second still list in the order they were posted (the view's tie-breaker is the _id)."""
    import os
    import time
    return f"comment:{uuid.UUID(int=(time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), 'big'))}"


def _comment_text(body) -> str:
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput('send {"text": "..."} (1 to 4000 characters)')
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"text may hold at most {MAX_COMMENT} characters")
    if set(body) - {"text"}:
        raise InvalidInput("a comment takes only text")
    return text.strip()


def post_comment(svc: OrderService, number: str, body, key: str | None, fp: str,
                 location: Callable[[str], str]) -> Outcome:
    """A comment under an order the person may read (Readers fields hide the order: 404)."""
    text = _comment_text(body)
    order = svc.get(number)

    def perform(reserved: dict) -> Outcome:
        doc = _earlier_attempt(svc, reserved["id"])
        if doc is None:
            doc = {"_id": reserved["id"], "type": "comment", "parent": order["_id"], "text": text,
                   "by": svc.access.name, "at": svc.clock()}
            try:
                svc.db.save(doc)
            except (Conflict, Forbidden):
                doc = _earlier_attempt(svc, reserved["id"])
                if doc is None:
                    raise
        return Outcome(201, doc, location(order["number"]))

    if not key:
        return perform({"id": comment_id()})
    return Idempotency(svc.db, svc.access.name, svc.clock).run(
        key, fp, reserve=lambda: {"id": comment_id()}, perform=perform)


def list_comments(svc: OrderService, number: str, after: list | None = None, limit: int = 50):
    """(comments oldest first, cursor for the next page or None). Paged by key, never skip."""
    order = svc.get(number)
    parent = order["_id"]
    start = [parent, *after] if after else [parent]
    res = svc.db.view("oms", "comments_by_parent", start_key=start, end_key=[parent, {}],
                      limit=limit + 2, include_docs=True)
    rows = [r for r in res["rows"] if not after or r["key"][1:] != after]
    more = len(rows) > limit
    rows = rows[:limit]
    docs = [r["doc"] for r in rows if r.get("doc")]
    return docs, (rows[-1]["key"][1:] if more and rows else None)
