"""Expiry: a draft nobody touched for `draft_days` (rules/agents.json) is cancelled with a reason,
through the ordinary cancel transition (validate_doc_update checks it), and its creator told."""
from __future__ import annotations

import datetime as dt

from oms.core import clock as clk
from oms.core.errors import InvalidInput
from oms.store.couch import Conflict, Forbidden, NotFound

from .base import AgentContext, RunLog, agent_rules, notify


def run(ctx: AgentContext, runlog: RunLog) -> None:
    days = agent_rules()["expiry"]["draft_days"]
    cutoff = clk.iso(ctx.now() - dt.timedelta(days=days))
    rows = ctx.db.view("automation", "orders_open_by_stage", start_key=["draft"], end_key=["draft", cutoff, {}])["rows"]
    svc = ctx.orders()
    for row in rows:
        value = row["value"]
        touched = value.get("touched_at") or value.get("updated_at") or ""
        if touched >= cutoff:
            continue   # touched since (the escalation agent's own flag does not count)
        number = value["number"]
        reason = f"draft untouched since {touched[:10]} ({days} days or more): cancelled by the expiry agent"
        try:
            doc = svc.act(number, "cancel", reason)
        except NotFound:
            runlog.error(f"order:{number}", "restricted by its Readers field: the agent may not read it")
            continue
        except (Conflict, InvalidInput):
            runlog.note(f"{number} changed meanwhile; left alone")
            continue
        except Forbidden as exc:
            runlog.error(f"order:{number}", exc.reason)
            continue
        runlog.touch(doc["_id"], "cancelled: " + reason)
        creator = value.get("created_by")
        if creator:
            notify(ctx, runlog, f"notification:expiry:{number}", [creator], "expiry", f"Draft {number} was cancelled",
                   f"Your draft order {number} ({value.get('customer')}) was not touched for {days} days and "
                   "has been cancelled. Create a new order if it is still wanted.", order=number)
