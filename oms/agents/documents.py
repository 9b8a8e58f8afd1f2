"""Documents to customers: every invoice and credit note, once issued, goes by e-mail as a PDF
to the customer's first contact with an address (when SMTP is set up: the mail agent sends it).
Each becomes a notification for Billing that says so (`docmail:<document id>`, written once), so
the desk sees what went out; a customer without an address is named there instead."""
from __future__ import annotations

from .base import AgentContext, RunLog, notify

STATE_ID = "agentstate:documents"
KINDS = {"invoice.issued": ("invoice", "Invoice"), "credit_note.issued": ("credit_note", "Credit note")}
BATCH = 200


def contact_email(customer: dict | None) -> str | None:
    return next((c["email"] for c in (customer or {}).get("contacts") or () if isinstance(c, dict) and c.get("email")),
                None)


def run(ctx: AgentContext, runlog: RunLog) -> None:
    state = ctx.db.get_or_none(STATE_ID) or {"_id": STATE_ID, "type": "agent_state", "after": None}
    after = state.get("after")
    while True:
        opts = {"limit": BATCH, "include_docs": True}
        if after:
            opts.update(start_key=after, skip=1)
        rows = ctx.db.view("automation", "events_by_time", **opts)["rows"]
        for row in rows:
            event = row.get("doc") or {}
            if event.get("name") not in KINDS:
                continue
            kind, title = KINDS[event["name"]]
            doc_id = event["_id"][len("event:"):]
            data = event.get("data") or {}
            customer = ctx.db.get_or_none(data["customer"]["id"]) if isinstance(data.get("customer"), dict) else None
            email = contact_email(customer)
            amount = f"{data['totals']['gross_cents'] / 100:,.2f} {data.get('currency', '')}"
            name = (customer or {}).get("name") or data.get("customer", {}).get("name", "")
            subject = f"{title} {data['number']} for order {data['order']}, {amount}"
            if email:
                text = (f"Dear {name},\n\nplease find attached {title.lower()} {data['number']} for your order "
                        f"{data['order']} ({amount})" + (f", due on {data['due_date']}" if data.get("due_date") else "")
                        + ".\n\nKind regards\n")
                notify(ctx, runlog, f"docmail:{doc_id}", ["[Billing]"], "document", f"Sent to {email}: {subject}", text,
                       order=data["order"], email_to=[email], attach=doc_id)
            else:
                notify(ctx, runlog, f"docmail:{doc_id}", ["[Billing]"], "document", f"Not sent (no e-mail address for "
                       f"{name}): {subject}", f"{name} has no contact with an e-mail address; send the PDF yourself.",
                       order=data["order"])
        if rows:
            after = rows[-1]["key"]
        if len(rows) < BATCH:
            break
    state["after"] = after
    state["checked_at"] = ctx.now_iso()
    try:
        ctx.db.save(state)
    except Exception:  # noqa: BLE001 - an overlapping run moved the checkpoint; the notifications are written once each
        runlog.note("the checkpoint moved meanwhile")
