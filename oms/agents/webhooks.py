"""Webhook delivery: each pending delivery is claimed (a write that conflicts if another run took
it), POSTed to the registered URL with the event id (X-OMS-Event-Id) and an HMAC signature, and
marked delivered on a 2xx. Otherwise it is retried with backoff (rules/agents.json) until
max_attempts, then marked dead (shown on the webhooks page). At least once: a receiver may see
an event twice (a crash after its 2xx, before our write) and de-duplicates on the event id."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid

import requests

from oms.core import clock as clk
from oms.core.errors import InvalidInput
from oms.store.couch import Conflict, Database, NotFound

from .base import AgentContext, RunLog, agent_rules
from .outbox import public

BATCH = 100

# What events are about: orders (their history) and the billing documents (oms/agents/outbox.py).
EVENT_KINDS = ("order", "invoice", "credit_note", "payment")


def settings() -> dict:
    return agent_rules()["webhooks"]


def backoff_seconds(attempts: int) -> int:
    """Wait after the n-th failed attempt (1-based)."""
    steps = settings()["backoff_seconds"]
    return steps[min(attempts, len(steps)) - 1]


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def register(db: Database, by: str, url: str, events=("order.*",), readers=(), now: str | None = None) -> dict:
    """A webhook (a Manager's database handle: validate_doc_update lets only Managers write them)."""
    url = (url or "").strip()
    if not (url.startswith("http://") or url.startswith("https://")) or " " in url:
        raise InvalidInput('url must be an http(s) URL, e.g. "https://erp.example.com/hooks/orders"')
    events = [e.strip() for e in events if e and e.strip()]
    if not events or not all(isinstance(e, str) and e.split(".", 1)[0] in EVENT_KINDS and "." in e for e in events):
        raise InvalidInput('events are names like "order.shipped" or "invoice.issued", or patterns like "order.*"')
    doc = {"_id": f"webhook:{uuid.uuid4().hex[:12]}", "type": "webhook", "url": url, "events": events,
           "readers": [r for r in readers if r], "secret": secrets.token_urlsafe(24), "active": True,
           "created_by": by, "created_at": now or clk.iso(clk.system())}
    return db.save(doc)


def deactivate(db: Database, hook_id: str) -> dict:
    doc = db.get(hook_id if hook_id.startswith("webhook:") else f"webhook:{hook_id}")
    doc["active"] = False
    return db.save(doc)


def list_hooks(db: Database) -> list[dict]:
    res = db.all_docs(start_key="webhook:", end_key="webhook:\ufff0", include_docs=True)
    return [r["doc"] for r in res["rows"] if r.get("doc")]


def run(ctx: AgentContext, runlog: RunLog) -> None:
    now = ctx.now_iso()
    rows = ctx.db.view("automation", "deliveries_due", end_key=[now, {}], limit=BATCH)["rows"]
    hooks: dict[str, dict | None] = {}
    for row in rows:
        _deliver_one(ctx, runlog, row["id"], hooks)


def _deliver_one(ctx: AgentContext, runlog: RunLog, delivery_id: str, hooks: dict) -> None:
    now = ctx.now()
    try:
        d = ctx.db.get(delivery_id)
    except NotFound:
        return
    if d["state"] != "pending" or (d.get("next_at") or "") > clk.iso(now) or (d.get("claimed_until") or "") > clk.iso(now):
        return
    # claim: a second run writing the same revision gets 409 and leaves it
    d["claimed_by"] = runlog.run_id
    d["claimed_until"] = clk.iso(now + dt.timedelta(seconds=settings()["claim_seconds"]))
    try:
        ctx.db.save(d)
    except Conflict:
        return
    if d["webhook"] not in hooks:
        hooks[d["webhook"]] = ctx.db.get_or_none(d["webhook"])
    hook = hooks[d["webhook"]]
    event = ctx.db.get_or_none(d["event"])
    if not hook or not hook.get("active", True) or not event:
        d.update(state="dead", last_error="the webhook or its event is gone", claimed_until=None)
        _save(ctx, runlog, d, "dead (webhook removed)")
        return
    body = json.dumps(public(event), separators=(",", ":"), sort_keys=True).encode()
    attempt = d["attempts"] + 1
    headers = {"Content-Type": "application/json", "User-Agent": "OrderDesk-Webhooks/1",
               "X-OMS-Event-Id": public(event)["event_id"], "X-OMS-Event": event["name"],
               "X-OMS-Delivery": delivery_id[len("delivery:"):], "X-OMS-Attempt": str(attempt),
               "X-OMS-Signature": signature(hook["secret"], body)}
    error = None
    try:
        resp = ctx.http.post(hook["url"], data=body, headers=headers, timeout=settings()["timeout_seconds"],
                             allow_redirects=False)
        if not 200 <= resp.status_code < 300:
            error = f"HTTP {resp.status_code}"
    except requests.RequestException as exc:
        error = f"{exc.__class__.__name__}: {str(exc)[:200]}"
    d["attempts"] = attempt
    d["claimed_until"] = None
    d["last_attempt_at"] = ctx.now_iso()
    if error is None:
        d.update(state="delivered", delivered_at=ctx.now_iso(), last_error=None)
        _save(ctx, runlog, d, f"delivered {event['name']} to {hook['url']} (attempt {attempt})")
        return
    d["last_error"] = error
    if attempt >= settings()["max_attempts"]:
        d["state"] = "dead"
        _save(ctx, runlog, d, f"gave up after {attempt} attempts: {error}")
    else:
        d["next_at"] = clk.iso(now + dt.timedelta(seconds=backoff_seconds(attempt)))
        _save(ctx, runlog, d, f"attempt {attempt} failed ({error}); next at {d['next_at']}")


def _save(ctx: AgentContext, runlog: RunLog, d: dict, what: str) -> None:
    try:
        ctx.db.save(d)
        runlog.touch(d["_id"], what)
    except Conflict:
        runlog.error(d["_id"], "changed by someone else while delivering; it will be retried")
