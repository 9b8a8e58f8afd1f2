"""Payment reminders: once a day, every invoice past its due date with something unpaid gets the
reminder of the level its days overdue have reached (rules/billing.json `dunning`), addressed to
Billing, once per invoice and level (`dunning:<invoice>:<level>`): a repeated run sends nothing new."""
from __future__ import annotations

import datetime as dt

from oms.billing.invoices import billing_rules

from .base import AgentContext, RunLog, notify


def level_for(days_overdue: int) -> dict | None:
    reached = [d for d in billing_rules()["dunning"] if days_overdue >= d["days_overdue"]]
    return max(reached, key=lambda d: d["level"]) if reached else None


def run(ctx: AgentContext, runlog: RunLog) -> None:
    today = ctx.now().date()
    rows = ctx.db.view("billing", "invoices_by_due", end_key=[(today - dt.timedelta(days=1)).isoformat(), {}])["rows"]
    for row in rows:
        inv = row["value"]
        days = (today - dt.date.fromisoformat(row["key"][0])).days
        level = level_for(days)
        if level is None:
            continue
        balance = ctx.db.view("billing", "balance_by_invoice", start_key=[inv["number"]], end_key=[inv["number"], {}],
                              group_level=1)["rows"]
        unpaid = balance[0]["value"] if balance else 0
        if unpaid <= 0:
            continue
        amount = f"{unpaid / 100:,.2f} {inv['currency']}"
        notify(ctx, runlog, f"dunning:{inv['number']}:{level['level']}", ["[Billing]"], "dunning",
               f"{level['title']}: {inv['number']} ({inv['customer']['name']}), {amount} {days} days overdue",
               f"Invoice {inv['number']} for order {inv['order']} was due on {row['key'][0]}; {amount} is still "
               f"unpaid. This is reminder level {level['level']} ({level['title'].lower()}).", order=inv["order"])
