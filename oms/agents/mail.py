"""The mail agent: sends the e-mail of each notification whose mail is pending. A notification
to a name goes to that person's directory address; to a [Role], to everyone holding the role.
Each one is claimed first (a conflicting write), so overlapping runs never both send it."""
from __future__ import annotations

import datetime as dt
import smtplib

from oms.core import clock as clk
from oms.store.couch import Conflict

from . import mailer
from .base import AgentContext, RunLog, agent_rules
from .reminders import people

BATCH = 100


def recipients(ctx: AgentContext, to: list[str], cache: dict) -> list[str]:
    if "people" not in cache:
        cache["people"] = people(ctx) if ctx.directory is not None else []
    out = []
    for access, email in cache["people"]:
        if email and (access.name in to or any(r in to for r in access.roles)):
            out.append(email)
    return sorted(set(out))


def run(ctx: AgentContext, runlog: RunLog) -> None:
    if ctx.smtp is None:
        runlog.note("no SMTP server configured (OMS_SMTP_HOST): e-mail is off")
        return
    cfg = agent_rules()["mail"]
    rows = ctx.db.view("automation", "notifications_mail_pending", limit=BATCH, include_docs=True)["rows"]
    cache: dict = {}
    for row in rows:
        doc = row.get("doc")
        now = ctx.now()
        mail = dict(doc.get("mail") or {})
        if mail.get("claimed_until") and mail["claimed_until"] > clk.iso(now):
            continue
        mail.update(state="sending", claimed_by=runlog.run_id,
                    claimed_until=clk.iso(now + dt.timedelta(seconds=cfg["claim_seconds"])))
        doc["mail"] = mail
        try:
            ctx.db.save(doc)
        except Conflict:
            continue
        to = doc.get("email_to") or recipients(ctx, doc["to"], cache)
        attempts = mail.get("attempts", 0) + 1
        if not to:
            doc["mail"] = {"state": "no_address", "attempts": attempts}
        else:
            try:
                mailer.send(ctx.smtp, to, _subject(doc), doc.get("text", ""), {"X-OMS-Notification": doc["_id"]},
                            _attachments(ctx, doc))
                doc["mail"] = {"state": "sent", "attempts": attempts, "sent_at": ctx.now_iso(), "to": to}
            except (OSError, smtplib.SMTPException) as exc:
                state = "failed" if attempts >= cfg["max_attempts"] else "pending"
                doc["mail"] = {"state": state, "attempts": attempts, "last_error": str(exc)[:200]}
        try:
            ctx.db.save(doc)
            runlog.touch(doc["_id"], f"mail {doc['mail']['state']}" + (f" to {', '.join(to)}" if to else ""))
        except Conflict:
            runlog.error(doc["_id"], "changed while sending")


def _subject(doc: dict) -> str:
    """Staff read the desk's subject; a customer reads the document's own words."""
    if doc.get("email_to"):
        return doc["subject"].split(": ", 1)[-1]
    return f"[Order Desk] {doc['subject']}"


def _attachments(ctx: AgentContext, doc: dict) -> list[tuple[str, bytes, str]]:
    """The printed document the notification names, as a PDF."""
    if not doc.get("attach"):
        return []
    from oms.billing import printing   # WeasyPrint is loaded only when a document goes out
    from oms.billing.invoices import with_balance
    printed = ctx.db.get(doc["attach"])
    if printed["type"] == "order":
        made = printing.confirmation(printed, ctx.db.get_or_none(printed["customer"]["id"]))
        return [(f"{made.filename}.pdf", made.pdf(), "application/pdf")]
    if printed["type"] == "invoice":   # as it stands today: what is still due
        printed = with_balance(ctx.db, printed, ctx.now().date())
    return [(f"{printed['number']}.pdf", printing.invoice_pdf(printed), "application/pdf")]
