"""Housekeeping: Idempotency-Key records of API requests older than `idempotency_days`
(rules/agents.json) are deleted; a client retries within minutes, not weeks. Import claims
(scope "ref") are kept for good: they are what makes a re-imported file create no duplicates."""
from __future__ import annotations

import datetime as dt

from oms.core import clock as clk

from .base import AgentContext, RunLog, agent_rules

BATCH = 500


def run(ctx: AgentContext, runlog: RunLog) -> None:
    cutoff = clk.iso(ctx.now() - dt.timedelta(days=agent_rules()["housekeeping"]["idempotency_days"]))
    rows = ctx.db.view("automation", "idempotency_by_time", end_key=[cutoff, {}], limit=BATCH, include_docs=True)["rows"]
    gone = [{"_id": r["id"], "_rev": r["doc"]["_rev"], "_deleted": True} for r in rows if r.get("doc")]
    if not gone:
        return
    for doc, res in zip(gone, ctx.db.bulk(gone)):
        if res.get("ok"):
            runlog.touch(doc["_id"], "deleted an idempotency record past its days")
        elif res.get("error") != "conflict":
            runlog.error(doc["_id"], res.get("reason") or res.get("error"))
