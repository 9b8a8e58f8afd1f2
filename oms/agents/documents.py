"""Documents to customers: the order confirmation once an order is approved, and every invoice
and credit note once issued, go by e-mail as a PDF to the customer's first contact with an
address (when SMTP is set up: the mail agent sends it). Each becomes a notification that says so
(`docmail:<document id>`, written once: for Sales or Billing), so the desk sees what went out; a
customer without an address is named there instead."""
from __future__ import annotations

from oms.store.couch import Conflict

from .base import AgentContext, RunLog, notify

STATE_ID = "agentstate:documents"
KINDS = {"invoice.issued": ("invoice", "Invoice"), "credit_note.issued": ("credit_note", "Credit note"),
         "order.approved": ("order", "Order confirmation")}
BATCH = 200


def contact_email(customer: dict | None) -> str | None:
    return next((c["email"] for c in (customer or {}).get("contacts") or () if isinstance(c, dict) and c.get("email")),
                None)


def confirm(ctx: AgentContext, runlog: RunLog, event: dict, data: dict) -> None:
    """The order confirmation, the first time the order is approved."""
    number = data["number"]
    customer = ctx.db.get_or_none(data["customer"]["id"]) if isinstance(data.get("customer"), dict) else None
    email = contact_email(customer)
    name = (customer or {}).get("name") or data["customer"].get("name", "")
    subject = f"Order confirmation {number}"
    if email:
        notify(ctx, runlog, f"docmail:confirmation:{number}", ["[Sales]"], "document", f"Sent to {email}: {subject}",
               f"Dear {name},\n\nthank you for your order {number}"
               + (f" (your reference {data['customer_po']})" if data.get("customer_po") else "")
               + ". The confirmation is attached.\n\nKind regards\n", order=number, email_to=[email],
               attach=f"order:{number}")
    else:
        notify(ctx, runlog, f"docmail:confirmation:{number}", ["[Sales]"], "document",
               f"Not sent (no e-mail address for {name}): {subject}",
               f"{name} has no contact with an e-mail address; send the confirmation yourself.", order=number)


def run(ctx: AgentContext, runlog: RunLog) -> None:
    """Walks the database's changes feed for new events (in the order they arrived, so an event
    replicated late with an older time is not missed), from where the last run stopped."""
    state = ctx.db.get_or_none(STATE_ID)
    if state is None:   # the first run starts from now: what was issued before it was never promised by mail
        state = {"_id": STATE_ID, "type": "agent_state", "since": str(ctx.db.info()["update_seq"])}
        runlog.note("first run: documents issued from now on go out")
        _save(ctx, runlog, state)
        return
    since = state.get("since", "0")
    while True:
        res = ctx.db.get_json("_changes", since=since, limit=BATCH, include_docs="true")
        results = res.get("results", [])
        for change in results:
            event = change.get("doc") or {}
            if change.get("deleted") or event.get("type") != "event" or event.get("name") not in KINDS:
                continue
            kind, title = KINDS[event["name"]]
            data = event.get("data") or {}
            if kind == "order":
                confirm(ctx, runlog, event, data)
                continue
            doc_id = event["_id"][len("event:"):]
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
        since = res.get("last_seq", since)
        if len(results) < BATCH:
            break
    state["since"] = since
    _save(ctx, runlog, state)


def _save(ctx: AgentContext, runlog: RunLog, state: dict) -> None:
    state["checked_at"] = ctx.now_iso()
    try:
        ctx.db.save(state)
    except Conflict:   # an overlapping run moved the checkpoint; the notifications are written once each
        runlog.note("the checkpoint moved meanwhile")
