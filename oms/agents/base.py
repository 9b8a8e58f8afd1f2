"""What every agent shares: its context (the system identity's database, the clock, mail and
HTTP), its run log (an `agent_run` document: what it touched), and notifications.

Agents sign as the system identity (oms-agent, an ordinary ACL entry: people.as_system), never as
the CouchDB admin, so validate_doc_update checks them like anyone. Every effect is idempotent
(deterministic ids, conflicting claims), so runs may overlap or repeat safely."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Callable

import requests

from oms.core import clock as clk
from oms.core import rules
from oms.identity.acl import Access
from oms.ordering.orders import OrderService
from oms.store.couch import Conflict, CouchError, Database
from oms.store.numbers import NumberAllocator

from .mailer import SmtpSettings

log = logging.getLogger("oms.agents")


def agent_rules() -> dict:
    return rules.rules()["agents"]


@dataclass
class AgentContext:
    db: Database
    access: Access
    clock: clk.Clock = clk.system
    directory: object | None = None          # oms.identity.directory.Directory: people and their e-mail
    smtp: SmtpSettings | None = None
    http: requests.Session = field(default_factory=requests.Session)
    acl_entries: list | None = None
    numbers: NumberAllocator = field(default_factory=NumberAllocator)

    def now(self) -> dt.datetime:
        return self.clock()

    def now_iso(self) -> str:
        return clk.iso(self.clock())

    def orders(self) -> OrderService:
        """Orders as the system identity, with the agent's clock on every history entry."""
        return OrderService(self.db, self.access, self.numbers, clock=clk.iso_clock(self.clock))

    def entries(self) -> list:
        if self.acl_entries is None:
            self.acl_entries = self.db.get("acl").get("entries", [])
        return self.acl_entries


@dataclass
class RunLog:
    agent: str
    run_id: str
    started_at: str
    touched: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def touch(self, doc_id: str, what: str) -> None:
        self.touched.append({"id": doc_id, "what": what})

    def error(self, doc_id: str | None, reason: str) -> None:
        self.errors.append({"id": doc_id, "reason": reason})

    def note(self, text: str) -> None:
        self.notes.append(text)


def start_log(ctx: AgentContext, agent: str) -> tuple[RunLog, dict]:
    run_id = uuid.uuid4().hex[:12]
    started = ctx.now_iso()
    doc = {"_id": f"agentrun:{started}:{agent}:{run_id}", "type": "agent_run", "agent": agent, "run_id": run_id,
           "started_at": started, "by": ctx.access.name, "touched": [], "errors": []}
    ctx.db.save(doc)
    return RunLog(agent, run_id, started), doc


def finish_log(ctx: AgentContext, runlog: RunLog, doc: dict) -> dict:
    doc.update(finished_at=ctx.now_iso(), touched=runlog.touched[:2000], errors=runlog.errors[:500],
               notes=runlog.notes[:50], counts={"touched": len(runlog.touched), "errors": len(runlog.errors)})
    try:
        ctx.db.save(doc)
    except CouchError as exc:
        log.warning("could not finish the log of %s: %s", doc["_id"], exc.reason)
    return doc


def stable_id(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def notify(ctx: AgentContext, runlog: RunLog, doc_id: str, to: list[str], kind: str, subject: str,
           text: str, order: str | None = None, email_to: list[str] | None = None, attach: str | None = None) -> bool:
    """Write a notification once (deterministic id: a repeated run finds it and writes nothing).
    It shows in the web app for every principal in `to`; the mail agent sends its e-mail, to
    `email_to` (people outside the desk, e.g. a customer) instead of `to` when given, with the
    printed document `attach` (an invoice or credit note id) as a PDF."""
    doc = {"_id": doc_id, "type": "notification", "to": to, "kind": kind, "subject": subject, "text": text,
           "at": ctx.now_iso(), "by": ctx.access.name,
           "mail": {"state": "pending" if ctx.smtp else "off", "attempts": 0}}
    if order:
        doc["order"] = order
    if email_to:
        doc["email_to"] = email_to
    if attach:
        doc["attach"] = attach
    try:
        ctx.db.save(doc)
    except Conflict:
        return False
    runlog.touch(doc_id, f"notified {', '.join(to)}: {subject}")
    return True


Agent = Callable[[AgentContext, RunLog], None]
