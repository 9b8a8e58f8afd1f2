"""The outbox of order events. Every history entry of every order becomes one event document
`event:<number>:<nnnn>` (its id is the event id receivers de-duplicate on), derived from the
_changes feed, so an event exists whoever wrote the change (web, API, a partner's replication,
curl) and none is lost if the app stops between a write and its event: the next run picks up
from the last checkpoint. Re-reading changes is harmless: the ids are deterministic (409 = there).

For each new event, a delivery document per matching webhook is ensured (webhooks.py sends them)."""
from __future__ import annotations

import fnmatch

from oms.store.couch import Conflict

from .base import AgentContext, RunLog

NAMES = {"create": "order.created", "submit": "order.submitted", "approve": "order.approved",
         "hold_credit": "order.credit_held", "allocate": "order.allocated", "pick": "order.picking",
         "ship_part": "order.partially_shipped", "ship": "order.shipped", "deliver": "order.delivered",
         "bill": "order.billed", "invoice": "order.invoiced", "close": "order.closed", "hold": "order.held", "release": "order.released",
         "cancel": "order.cancelled", "amend": "order.amended", "request_return": "order.return_requested",
         "receive_return": "order.return_received", "refund": "order.refunded", "replace": "order.replaced",
         "edit": "order.updated", "import": "order.imported"}
# Billing documents are events of their own, one each, when they are written.
BILLING_EVENTS = {"invoice": "invoice.issued", "credit_note": "credit_note.issued", "payment": "payment.recorded"}
STATE_ID = "agentstate:outbox"
BATCH = 200


def event_name(action: str) -> str:
    return NAMES.get(action, f"order.{action}")


def event_docs(order: dict, recorded_at: str) -> list[dict]:
    out = []
    for i, entry in enumerate(order.get("history") or []):
        if entry.get("legacy"):
            continue   # it happened in the other system before the import
        doc = {"_id": f"event:{order['number']}:{i:04d}", "type": "event", "name": event_name(entry["action"]),
               "order": order["number"], "at": entry["at"], "by": entry["by"], "from": entry.get("from"),
               "to": entry.get("to"), "recorded_at": recorded_at,
               "data": {"number": order["number"], "status": entry.get("to"), "customer": order.get("customer"),
                        "totals": order.get("totals"), "currency": order.get("currency"),
                        "priority": order.get("priority"), "external_ref": order.get("external_ref")}}
        if order.get("invoices"):   # what is billed so far: numbers, totals, due dates
            doc["data"]["invoices"] = [{k: rec[k] for k in ("number", "gross_cents", "due_date") if k in rec}
                                       for rec in order["invoices"]]
        if order.get("returns"):
            doc["data"]["returns"] = [{"number": r["number"], "status": r["status"], "lines": r["lines"]}
                                      for r in order["returns"]]
        if entry.get("reason"):
            doc["reason"] = entry["reason"]
        if entry.get("changes"):
            doc["changes"] = entry["changes"]
        for f in ("readers", "authors"):
            if order.get(f):
                doc[f] = order[f]
        out.append(doc)
    return out


def billing_event(doc: dict, recorded_at: str) -> dict:
    """The event of an invoice, a credit note or a payment: what a bookkeeping system needs."""
    kind = doc["type"]
    if kind == "payment":
        data = {k: doc.get(k) for k in ("customer", "currency", "amount_cents", "received_on", "method", "reference",
                                        "allocations")}
    else:
        data = {k: doc.get(k) for k in ("number", "order", "customer", "currency", "totals", "due_date", "invoice",
                                        "reason") if doc.get(k) is not None}
    event = {"_id": f"event:{doc['_id']}", "type": "event", "name": BILLING_EVENTS[kind], "order": doc.get("order"),
             "at": doc.get("issued_at") or doc["recorded_at"], "by": doc.get("issued_by") or doc.get("recorded_by"),
             "from": None, "to": None, "recorded_at": recorded_at, "data": data}
    if doc.get("readers"):
        event["readers"] = doc["readers"]
    return event


def public(event: dict) -> dict:
    """An event as receivers and API clients see it."""
    out = {"event_id": event["_id"][len("event:"):], "name": event["name"], "order": event["order"],
           "at": event["at"], "by": event.get("by"), "from": event.get("from"), "to": event.get("to"),
           "data": event.get("data") or {}}
    for k in ("reason", "changes"):
        if event.get(k):
            out[k] = event[k]
    return out


def webhooks(ctx: AgentContext) -> list[dict]:
    res = ctx.db.all_docs(start_key="webhook:", end_key="webhook:\ufff0", include_docs=True)
    return [r["doc"] for r in res["rows"] if r.get("doc") and r["doc"].get("active", True)]


def matches(hook: dict, event: dict) -> bool:
    if event["at"] < hook.get("created_at", ""):
        return False   # a webhook hears what happens after it was registered
    if not any(fnmatch.fnmatchcase(event["name"], pattern) for pattern in hook["events"]):
        return False
    readers = event.get("readers")
    if not readers:
        return True
    allowed = set(hook.get("readers") or ())   # principals the webhook may read as (Readers fields)
    return bool(allowed & (set(readers) | set(event.get("authors") or ())))


def delivery_docs(events: list[dict], hooks: list[dict], now: str) -> list[dict]:
    return [{"_id": f"delivery:{h['_id'][len('webhook:'):]}:{e['_id'][len('event:'):]}", "type": "delivery",
             "webhook": h["_id"], "event": e["_id"], "state": "pending", "attempts": 0, "next_at": now,
             "created_at": now}
            for e in events for h in hooks if matches(h, e)]


def run(ctx: AgentContext, runlog: RunLog) -> None:
    state = ctx.db.get_or_none(STATE_ID) or {"_id": STATE_ID, "type": "agent_state", "since": "0"}
    since = state.get("since", "0")
    hooks = webhooks(ctx)
    while True:
        # POST /_changes with a selector is ignored by PouchDB Server (docs/architecture.md): filter here.
        res = ctx.db.get_json("_changes", since=since, limit=BATCH, include_docs="true")
        docs = [r["doc"] for r in res.get("results", []) if r.get("doc") and not r.get("deleted")]
        now = ctx.now_iso()
        events = [e for d in docs if d.get("type") == "order" for e in event_docs(d, now)]
        events += [billing_event(d, now) for d in docs if d.get("type") in BILLING_EVENTS]
        if events:
            written = _ensure(ctx, events)
            for e in written:
                runlog.touch(e["_id"], e["name"])
            if hooks:
                # deliveries for every event seen (not only new ones): a run that stopped between
                # the two writes is healed; existing deliveries answer 409 and stay as they are
                for d in _ensure(ctx, delivery_docs(events, hooks, now)):
                    runlog.touch(d["_id"], f"delivery to {d['webhook']}")
        since = res.get("last_seq", since)
        if len(res.get("results", [])) < BATCH:
            break
    state["since"] = since
    state["checked_at"] = ctx.now_iso()
    try:
        ctx.db.save(state)
    except Conflict:
        pass   # an overlapping run moved the checkpoint; re-reading changes is harmless


def _ensure(ctx: AgentContext, docs: list[dict]) -> list[dict]:
    """Write the documents that do not exist yet; returns those written now."""
    written = []
    for i in range(0, len(docs), BATCH):
        batch = docs[i:i + BATCH]
        have = {r["key"] for r in ctx.db.all_docs(keys=[d["_id"] for d in batch])["rows"]
                if "error" not in r and not (r.get("value") or {}).get("deleted")}
        new = [d for d in batch if d["_id"] not in have]
        if new:
            for d, res in zip(new, ctx.db.bulk(new)):
                if res.get("ok"):
                    written.append(d)
    return written


def events_page(db, access, after: list | None, limit: int):
    """(events the person may read, oldest first; cursor for the next page or None). An event
    carries its order's Readers/Authors fields, checked like the order's own."""
    out, start = [], after
    while True:
        opts = {"limit": limit + 1, "include_docs": True}
        if start is not None:
            opts["start_key"] = start
        rows = db.view("automation", "events_by_time", **opts)["rows"]
        fresh = [r for r in rows if start is None or r["key"] != start]
        for r in fresh:
            doc = r.get("doc")
            if doc and access.may_read(doc):
                out.append(public(doc))
                if len(out) == limit:
                    return out, r["key"]
        if len(rows) <= limit or not fresh:
            return out, None
        start = fresh[-1]["key"]
