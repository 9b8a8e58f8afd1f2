"""Escalation: an order that stayed in its stage longer than the stage's limit_hours
(rules/workflow.json) is flagged (order.escalation), its priority raised (1 = most urgent) where
the stage lets priority change, and the stage's owner_role notified. Once per stay in a stage:
the flag names the stage and when the order entered it, so a repeated run finds nothing to do."""
from __future__ import annotations

import copy
import datetime as dt

from oms.core import clock as clk
from oms.core import rules
from oms.ordering import workflow
from oms.store.couch import Conflict, Forbidden, NotFound

from .base import AgentContext, RunLog, agent_rules, notify, stable_id


def run(ctx: AgentContext, runlog: RunLog) -> None:
    now = ctx.now()
    wf = rules.workflow()
    for status, state in wf["states"].items():
        limit = state.get("limit_hours")
        if not state.get("open") or not limit:
            continue
        cutoff = clk.iso(now - dt.timedelta(hours=limit))
        rows = ctx.db.view("automation", "orders_open_by_stage", start_key=[status],
                           end_key=[status, cutoff, {}])["rows"]
        for row in rows:
            if row["value"]["escalated"]:
                continue
            _escalate(ctx, runlog, row["value"]["number"], status, row["key"][1], limit, state)


def _escalate(ctx: AgentContext, runlog: RunLog, number: str, status: str, since: str, limit: int, state: dict) -> None:
    svc = ctx.orders()
    try:
        doc = svc.get(number)
    except NotFound:
        runlog.error(f"order:{number}", "restricted by its Readers field: the agent may not read it")
        return
    if doc["status"] != status:
        return   # moved on since the view was read
    esc = doc.get("escalation") or {}
    if esc.get("stage") == status and esc.get("since") == since:
        return   # an overlapping run escalated it after we read the view
    now = ctx.now_iso()
    hours = (ctx.now() - clk.parse(since)).total_seconds() / 3600
    new = copy.deepcopy(doc)
    new["escalation"] = {"stage": status, "since": since, "at": now, "limit_hours": limit,
                         "hours": round(hours, 1), "by": ctx.access.name}
    changed = ["escalation"]
    cfg = agent_rules()["escalation"]
    if "priority" in state.get("editable", ()):
        raised = max(cfg["most_urgent"], doc.get("priority", 3) - cfg["raise_priority_by"])
        if raised != doc.get("priority"):
            new["priority"] = raised
            changed.append("priority")
    reason = f"{hours:.0f} h in {state['title']}, over its limit of {limit} h"
    new["updated_by"], new["updated_at"] = ctx.access.name, now
    new["history"] = doc["history"] + [workflow.history_entry(ctx.access, now, "edit", status, status, reason, changed)]
    try:
        ctx.db.save(new)
    except Conflict:
        runlog.note(f"{number} changed meanwhile; the next run looks again")
        return
    except Forbidden as exc:
        # PouchDB Server validates a stale write against the newer revision (403, not 409)
        current = ctx.db.get_or_none(doc["_id"])
        if current is not None and current["_rev"] != doc["_rev"]:
            runlog.note(f"{number} changed meanwhile; the next run looks again")
        else:
            runlog.error(doc["_id"], exc.reason)
        return
    what = f"escalated: {reason}" + (f"; priority {doc.get('priority')} -> {new['priority']}" if "priority" in changed else "")
    runlog.touch(doc["_id"], what)
    owner = state.get("owner_role")
    if owner:
        notify(ctx, runlog, f"notification:escalation:{stable_id(number, status, since)}", [owner], "escalation",
               f"{number} is overdue in {state['title']}",
               f"Order {number} ({doc['customer']['name']}) has been {state['title']} for {hours:.0f} hours; "
               f"the limit is {limit} hours. Priority is now {new.get('priority')}.", order=number)
