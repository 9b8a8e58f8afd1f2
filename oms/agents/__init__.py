"""The server's agents, like Notes agents: scheduled (rules/agents.json) or run on demand
(`oms agents run`), signed by the system identity, each run logged as a document.

    outbox      order history -> event documents (+ webhook deliveries)
    webhooks    deliver events to registered URLs, with retries and backoff
    escalation  orders past their stage's time limit: flag, raise priority, notify the owner role
    expiry      drafts untouched for N days: cancel with a reason, tell the creator
    reminders   a daily digest of each person's queue
    dunning     payment reminders for overdue invoices, by level
    documents   issued invoices and credit notes to the customer's contact, as PDF
    mail        send the e-mail of notifications
    housekeeping  forget Idempotency-Key records after some days
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Callable

from oms.core import clock as clk
from oms.store.couch import Conflict, CouchError

from . import documents, dunning, escalation, expiry, housekeeping, mail, outbox, reminders, webhooks
from .base import AgentContext, RunLog, agent_rules, finish_log, start_log

log = logging.getLogger("oms.agents")

# the order a full run takes: events first (so webhooks see them), mail last (so it sends what
# the others just wrote)
AGENTS: dict[str, Callable[[AgentContext, RunLog], None]] = {
    "outbox": outbox.run, "escalation": escalation.run, "expiry": expiry.run, "reminders": reminders.run,
    "dunning": dunning.run, "documents": documents.run,
    "webhooks": webhooks.run, "mail": mail.run, "housekeeping": housekeeping.run,
}


def run_agent(ctx: AgentContext, name: str) -> dict:
    """Run one agent once; returns its run document (what it touched, errors)."""
    if name not in AGENTS:
        raise KeyError(f"unknown agent {name!r}; one of {', '.join(AGENTS)}")
    runlog, doc = start_log(ctx, name)
    try:
        AGENTS[name](ctx, runlog)
    except CouchError as exc:
        runlog.error(None, f"stopped: {exc.reason}")
        log.warning("agent %s stopped: %s", name, exc.reason)
    except Exception as exc:  # an agent's bug must not stop the others; it is logged
        runlog.error(None, f"stopped: {exc.__class__.__name__}: {exc}")
        log.exception("agent %s failed", name)
    return finish_log(ctx, runlog, doc)


def run_once(ctx: AgentContext, names=None) -> list[dict]:
    return [run_agent(ctx, n) for n in (names or AGENTS)]


def _due(name: str, last: str | None, now: dt.datetime) -> bool:
    spec = agent_rules()["schedule"][name]
    if "every_minutes" in spec:
        return last is None or now - clk.parse(last) >= dt.timedelta(minutes=spec["every_minutes"])
    hh, mm = (int(x) for x in spec["daily_at"].split(":"))
    slot = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
    return now >= slot and (last is None or clk.parse(last) < slot)


def run_due(ctx: AgentContext) -> list[dict]:
    """Run the agents whose time has come. Each is claimed by writing its schedule document
    (agentstate:schedule:<name>): of two schedulers, the one whose write conflicts skips it."""
    done = []
    now = ctx.now()
    for name in AGENTS:
        state_id = f"agentstate:schedule:{name}"
        state = ctx.db.get_or_none(state_id) or {"_id": state_id, "type": "agent_state"}
        if not _due(name, state.get("last_run_at"), now):
            continue
        state["last_run_at"] = clk.iso(now)
        try:
            ctx.db.save(state)
        except Conflict:
            continue
        done.append(run_agent(ctx, name))
    return done


def schedule(ctx: AgentContext, interval: float = 30, iterations: int | None = None,
             sleep=time.sleep, on_run=None) -> None:
    """The scheduler loop: every `interval` seconds, run what is due. Stops after `iterations`."""
    n = 0
    while iterations is None or n < iterations:
        try:
            for doc in run_due(ctx):
                if on_run:
                    on_run(doc)
        except CouchError as exc:
            log.warning("scheduler: database unavailable (%s); trying again", exc.reason)
        n += 1
        if iterations is None or n < iterations:
            sleep(interval)


def context_from_settings(settings, clock: clk.Clock = clk.system, with_directory: bool = True) -> AgentContext:
    """The agents' context for `oms agents ...`: the system identity, mirrored into _users."""
    from oms.identity import people
    from oms.identity.directory import Directory
    from oms.store.couch import CouchServer

    from .mailer import SmtpSettings
    server = CouchServer(settings.couchdb_url, settings.couchdb_user, settings.couchdb_password)
    entries = server.admin(settings.db_name).get("acl")["entries"]
    access, db = people.as_system(server, settings.secret_key, settings.db_name, entries, settings.namespace)
    directory = None
    if with_directory and settings.ldap_url:
        directory = Directory(settings.ldap_url, settings.ldap_base_dn, settings.ldap_bind_dn,
                              settings.ldap_bind_password)
    return AgentContext(db=db, access=access, clock=clock, directory=directory, smtp=SmtpSettings.from_env(),
                        acl_entries=entries)
