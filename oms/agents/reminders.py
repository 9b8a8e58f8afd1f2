"""Reminders: once a day, each person gets a digest of their queue: the open orders in the stages
their roles own (owner_role in rules/workflow.json), most urgent first, as they may read them.
One notification per person per day (`digest:<name>:<date>`): repeated runs send nothing new."""
from __future__ import annotations

from oms.core import rules
from oms.identity import acl
from oms.identity.acl import Access

from .base import AgentContext, RunLog, agent_rules, notify


def people(ctx: AgentContext) -> list[tuple[Access, str]]:
    """(Access, e-mail) of everyone who can read orders: the directory's people through the ACL,
    plus person entries of the ACL (without e-mail unless the directory knows them)."""
    entries = ctx.entries()
    out, seen = [], set()
    if ctx.directory is not None:
        for p in ctx.directory.people():
            access = acl.resolve(entries, p.name, p.groups)
            seen.add(p.name)
            out.append((access, p.email))
    for e in entries:
        if e.get("type") == "person" and e["name"] not in seen and e["name"] != ctx.access.name:
            out.append((acl.resolve(entries, e["name"], ()), ""))
    return [(a, m) for a, m in out if a.at_least("reader") and a.name != ctx.access.name]


def queue(ctx: AgentContext, access: Access, cache: dict) -> list[dict]:
    states = [s for s, st in rules.workflow()["states"].items() if st.get("open") and st.get("owner_role") in access.roles]
    rows = []
    for s in states:
        if s not in cache:
            cache[s] = ctx.db.view("automation", "orders_open_by_stage", start_key=[s], end_key=[s, {}])["rows"]
        rows += [dict(r["value"], status=s, entered=r["key"][1]) for r in cache[s]]
    visible = [r for r in rows if access.may_read(r)]
    return sorted(visible, key=lambda r: (r.get("priority", 3), r["entered"], r["number"]))


def run(ctx: AgentContext, runlog: RunLog) -> None:
    day = ctx.now_iso()[:10]
    most = agent_rules()["reminders"]["max_orders_listed"]
    titles = {k: v["title"] for k, v in rules.workflow()["states"].items()}
    cache: dict = {}
    for access, _email in people(ctx):
        if ctx.db.get_or_none(f"digest:{access.name}:{day}") is not None:
            continue
        items = queue(ctx, access, cache)
        if not items:
            continue
        lines = [f"- {r['number']}  P{r.get('priority', 3)}  {titles.get(r['status'], r['status'])} since "
                 f"{r['entered'][:16].replace('T', ' ')}  {r.get('customer') or ''}" for r in items[:most]]
        if len(items) > most:
            lines.append(f"... and {len(items) - most} more")
        notify(ctx, runlog, f"digest:{access.name}:{day}", [access.name], "digest",
               f"Your queue on {day}: {len(items)} order{'s' if len(items) != 1 else ''}",
               "Orders waiting for you, most urgent first:\n" + "\n".join(lines))
