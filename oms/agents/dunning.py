"""Payment reminders: once a day, every invoice past its due date with something unpaid gets the
reminder of the level its days overdue have reached (rules/billing.json `dunning`), once per
invoice and level (`dunning:<invoice>:<level>`): a repeated run sends nothing new. It goes by
e-mail to the customer's contact with the invoice attached (Billing sees that it went), or to
Billing when the customer has no address."""
from __future__ import annotations

import datetime as dt

from oms.billing.invoices import billing_rules, unpaid

from .base import AgentContext, RunLog, notify
from .documents import contact_email


def level_for(days_overdue: int) -> dict | None:
    reached = [d for d in billing_rules()["dunning"] if days_overdue >= d["days_overdue"]]
    return max(reached, key=lambda d: d["level"]) if reached else None


def run(ctx: AgentContext, runlog: RunLog) -> None:
    today = ctx.now().date()
    rows = ctx.db.view("billing", "invoices_by_due", end_key=[(today - dt.timedelta(days=1)).isoformat(), {}])["rows"]
    owed = unpaid(ctx.db, [row["value"]["number"] for row in rows])
    for row in rows:
        inv = row["value"]
        days = (today - dt.date.fromisoformat(row["key"][0])).days
        level = level_for(days)
        if level is None:
            continue
        due = owed.get(inv["number"], 0)
        if due <= 0:
            continue
        amount = f"{due / 100:,.2f} {inv['currency']}"
        subject = f"{level['title']}: {inv['number']} ({inv['customer']['name']}), {amount} {days} days overdue"
        email = contact_email(ctx.db.get_or_none(inv["customer"]["id"]))
        if email:   # the reminder goes to the customer, with the invoice; Billing sees that it went
            notify(ctx, runlog, f"dunning:{inv['number']}:{level['level']}", ["[Billing]"], "dunning",
                   f"Sent to {email}: {subject}",
                   f"Dear {inv['customer']['name']},\n\ninvoice {inv['number']} for your order {inv['order']} was due on "
                   f"{row['key'][0]}; {amount} is still unpaid. Please pay it now, quoting {inv['number']}; the "
                   "invoice is attached.\n\nKind regards\n", order=inv["order"], email_to=[email],
                   attach=f"invoice:{inv['number']}")
        else:
            notify(ctx, runlog, f"dunning:{inv['number']}:{level['level']}", ["[Billing]"], "dunning", subject,
                   f"Invoice {inv['number']} for order {inv['order']} was due on {row['key'][0]}; {amount} is still "
                   f"unpaid. This is reminder level {level['level']} ({level['title'].lower()}); the customer has no "
                   "e-mail address on file.", order=inv["order"])
