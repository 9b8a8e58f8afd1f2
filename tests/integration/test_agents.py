"""The agents on seeded data with a fixed clock, in a database of their own on the real server:
escalation, expiry, reminders, e-mail to a local SMTP sink (aiosmtpd), the outbox of events and
webhook delivery with retries to a local HTTP receiver; each run logged; repeats and overlaps
change nothing twice."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from couch_design.deploy import deploy
from oms import agents
from oms.agents import AgentContext, webhooks
from oms.agents.mailer import SmtpSettings
from oms.core import clock
from oms.devstack.ldap_demo import DEMO_PEOPLE
from oms.identity import acl, people
from oms.identity.directory import Directory
from oms.ordering.orders import OrderService
from oms.store.numbers import NumberAllocator

T0 = clock.parse("2026-03-02T09:00:00Z")
GROUPS = {p["uid"]: p["groups"] for p in DEMO_PEOPLE}


def at(hours: float = 0, days: float = 0) -> str:
    return clock.iso(T0 + dt.timedelta(hours=hours, days=days))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


from tests.viewdata import product_doc  # noqa: E402


class World:
    """A fresh database with customers and orders placed by the demo people at fixed times."""

    def __init__(self, server, settings):
        self.server, self.settings = server, settings
        self.name = f"agents_test_{uuid.uuid4().hex[:8]}"
        self.admin = server.admin(self.name)
        deploy(self.admin, progress=lambda *_: None, namespace=settings.namespace)
        self.admin.bulk([{"_id": f"customer:{c}", "type": "customer", "name": n, "currency": "EUR"}
                         for c, n in (("C1", "Acme Ltd"), ("C2", "Globex"))]
                        + [product_doc("WID-100", {"EUR": 450})])
        self.entries = self.admin.get("acl")["entries"]
        self.numbers = NumberAllocator()
        self.directory = Directory(settings.ldap_url, settings.ldap_base_dn, settings.ldap_bind_dn,
                                   settings.ldap_bind_password)
        self.orders = {}

    def svc(self, name: str, when: str) -> OrderService:
        access = acl.resolve(self.entries, name, GROUPS[name])
        people.mirror(self.server, self.settings.secret_key, access, namespace=self.settings.namespace)
        db = people.open_as(self.server, self.settings.secret_key, self.name, name, self.settings.namespace)
        return OrderService(db, access, self.numbers, clock=lambda: when)

    def place(self, key: str, when: str, status="draft", who="sally", **extra) -> dict:
        doc = self.svc(who, when).create({"customer": "C1", "status": status, **extra,
                                          "lines": [{"sku": "WID-100", "qty": 2, "unit_price": "4.50"}]})
        self.orders[key] = doc["number"]
        return doc

    def act(self, key: str, who: str, action: str, when: str, reason=None) -> dict:
        return self.svc(who, when).act(self.orders[key], action, reason)

    def get(self, key: str) -> dict:
        return self.admin.get(f"order:{self.orders[key]}")

    def context(self, when=T0, smtp=None, directory=True) -> AgentContext:
        access, db = people.as_system(self.server, self.settings.secret_key, self.name, self.entries, self.settings.namespace)
        return AgentContext(db=db, access=access, clock=clock.fixed(when) if isinstance(when, (str, dt.datetime)) else when,
                            directory=self.directory if directory else None, smtp=smtp, acl_entries=self.entries)

    def notification(self, doc_id: str) -> dict | None:
        return self.admin.get_or_none(doc_id)


@pytest.fixture(scope="module")
def world(server, settings):
    w = World(server, settings)
    w.place("old_draft", at(days=-40))                                  # expiry: untouched 40 days
    w.place("young_draft", at(days=-2))                                 # neither
    w.place("late_submitted", at(hours=-30), status="submitted")        # Credit, 24 h limit: escalate
    w.place("fresh_submitted", at(hours=-2), status="submitted")        # within the limit
    w.place("late_approved", at(hours=-26), status="submitted")
    w.act("late_approved", "carl", "approve", at(hours=-25))            # Warehouse, 24 h: escalate
    w.place("late_shipped", at(hours=-200), status="submitted")
    for who, action, when in (("carl", "approve", -199), ("wanda", "allocate", -198), ("wanda", "pick", -197),
                              ("sam", "ship", -130)):
        w.act("late_shipped", who, action, at(hours=when))            # Shipping, 120 h: flag only
    w.place("hidden", at(hours=-30), status="submitted", who="mia", readers=["mia"], authors=["mia"])
    yield w
    server.request("DELETE", f"/{w.name}")


def touched_ids(run: dict) -> set[str]:
    return {t["id"] for t in run["touched"]}


# ------------------------------------------------------------------ escalation
def test_escalation_flags_orders_past_their_stage_limit_raises_priority_and_notifies_the_owner_role(world):
    run = agents.run_agent(world.context(), "escalation")
    late = world.get("late_submitted")
    assert late["escalation"]["stage"] == "submitted" and late["escalation"]["limit_hours"] == 24
    assert late["priority"] == 2 and late["history"][-1]["by"] == "oms-agent"
    assert late["history"][-1]["action"] == "edit" and set(late["history"][-1]["changes"]) == {"escalation", "priority"}
    assert world.get("late_approved")["priority"] == 2
    shipped = world.get("late_shipped")
    assert shipped["escalation"]["stage"] == "shipped" and shipped["priority"] == 3   # priority frozen when shipped
    assert "escalation" not in world.get("fresh_submitted") and "escalation" not in world.get("young_draft")
    notes = world.admin.view("automation", "notifications_by_recipient", start_key=["[Credit]"], end_key=["[Credit]", {}],
                             include_docs=True)["rows"]
    assert [n["doc"]["order"] for n in notes] == [world.orders["late_submitted"]]
    assert "overdue in Submitted" in notes[0]["doc"]["subject"]
    # the run is logged as a document: what it touched, and what it could not (a Readers field)
    logged = world.admin.get(run["_id"])
    assert logged["type"] == "agent_run" and logged["by"] == "oms-agent" and logged["finished_at"] == at()
    assert f"order:{world.orders['late_submitted']}" in touched_ids(logged)
    assert any("Readers" in e["reason"] for e in logged["errors"])
    assert "escalation" not in world.get("hidden")


def test_escalation_run_again_changes_nothing(world):
    agents.run_agent(world.context(), "escalation")
    again = agents.run_agent(world.context(at(hours=1)), "escalation")
    assert [t for t in again["touched"] if t["id"].startswith("order:")] == []
    assert len([h for h in world.get("late_submitted")["history"] if h["action"] == "edit"]) == 1


def test_overlapping_escalation_runs_escalate_an_order_once(world):
    world.place("race", at(hours=-50), status="submitted")
    runs = []
    threads = [threading.Thread(target=lambda: runs.append(agents.run_agent(world.context(), "escalation")))
               for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    doc = world.get("race")
    assert [h["action"] for h in doc["history"]] == ["create", "edit"] and doc["priority"] == 2
    assert sum(f"order:{world.orders['race']}" in touched_ids(r) for r in runs) == 1


# ------------------------------------------------------------------ expiry
def test_expiry_cancels_drafts_untouched_for_the_set_days_with_a_reason_and_tells_the_creator(world):
    run = agents.run_agent(world.context(), "expiry")
    old = world.get("old_draft")
    assert old["status"] == "cancelled" and "untouched since" in old["cancel_reason"]
    assert old["history"][-1]["action"] == "cancel" and old["history"][-1]["by"] == "oms-agent"
    assert world.get("young_draft")["status"] == "draft"
    note = world.notification(f"notification:expiry:{world.orders['old_draft']}")
    assert note["to"] == ["sally"] and note["kind"] == "expiry"
    assert f"order:{world.orders['old_draft']}" in touched_ids(run)
    again = agents.run_agent(world.context(), "expiry")
    assert again["touched"] == [] and again["errors"] == []


# ------------------------------------------------------------------ reminders
def test_reminders_send_each_person_a_daily_digest_of_their_queue_once_a_day(world):
    agents.run_agent(world.context(at(hours=-1)), "escalation")
    run = agents.run_agent(world.context(), "reminders")
    day = at()[:10]
    carl = world.notification(f"digest:carl:{day}")
    listed = [line.split()[1] for line in carl["text"].splitlines() if line.startswith("- ")]
    assert world.orders["late_submitted"] in listed and world.orders["fresh_submitted"] in listed
    assert listed.index(world.orders["late_submitted"]) < listed.index(world.orders["fresh_submitted"])  # priority 2 first
    assert world.orders["hidden"] not in listed                                # Readers field: not carl's to see
    wanda = world.notification(f"digest:wanda:{day}")
    assert world.orders["late_approved"] in wanda["text"] and world.orders["late_submitted"] not in wanda["text"]
    assert world.notification(f"digest:rita:{day}") is None                   # no role, no queue
    assert f"digest:carl:{day}" in touched_ids(run)
    assert agents.run_agent(world.context(at(hours=3)), "reminders")["touched"] == []
    next_day = agents.run_agent(world.context(at(days=1)), "reminders")
    assert f"digest:carl:{at(days=1)[:10]}" in touched_ids(next_day)


# ------------------------------------------------------------------ e-mail
class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((sorted(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpSettings(host="127.0.0.1", port=controller.port, sender="Order Desk <desk@orderdesk.example>"), inbox
    controller.stop()


def test_notifications_go_out_by_email_to_the_person_or_everyone_in_the_role(world, smtp_sink):
    smtp, inbox = smtp_sink
    world.place("mail_me", at(hours=-40), status="submitted")
    agents.run_agent(world.context(smtp=smtp), "escalation")
    sent = agents.run_agent(world.context(smtp=smtp), "mail")
    to_credit = [m for m in inbox.messages if world.orders["mail_me"] in m[1]]
    assert len(to_credit) == 1
    recipients, text = to_credit[0]
    assert recipients == ["carl@orderdesk.example", "mia@orderdesk.example"]   # [Credit]: carl, and mia (managers)
    assert "Subject: [Order Desk]" in text and "overdue in Submitted" in text
    assert any("mail sent" in t["what"] for t in sent["touched"])
    agents.run_agent(world.context(smtp=smtp), "mail")
    assert len([m for m in inbox.messages if world.orders["mail_me"] in m[1]]) == 1   # sent once


def test_without_smtp_settings_mail_is_off_and_says_so(world):
    run = agents.run_agent(world.context(), "mail")
    assert run["touched"] == [] and "e-mail is off" in run["notes"][0]
    assert SmtpSettings.from_env({}) is None
    assert SmtpSettings.from_env({"OMS_SMTP_HOST": "mail", "OMS_SMTP_PORT": "2525"}).port == 2525


# ------------------------------------------------------------------ outbox and webhooks
class Receiver:
    """A local webhook endpoint that fails the first `failures` requests, then accepts."""

    def __init__(self, failures=1):
        self.failures, self.requests = failures, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = 500 if len(receiver.requests) <= receiver.failures else 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/hooks/orders"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_order_history_becomes_events_once_each(world):
    run = agents.run_agent(world.context(), "outbox")
    number = world.orders["late_shipped"]
    events = [world.admin.get_or_none(f"event:{number}:{i:04d}") for i in range(len(world.get("late_shipped")["history"]))]
    assert [e["name"] for e in events[:5]] == ["order.created", "order.approved", "order.allocated",
                                               "order.picking", "order.shipped"]
    assert events[4]["by"] == "sam" and events[4]["from"] == "picking" and events[4]["to"] == "shipped"
    assert f"event:{number}:0000" in touched_ids(run)
    again = agents.run_agent(world.context(), "outbox")
    assert again["touched"] == []


def test_webhooks_are_delivered_at_least_once_with_retries_and_backoff(world, receiver):
    mia_db = world.svc("mia", at()).db
    hook = webhooks.register(mia_db, "mia", receiver.url, ["order.approved", "order.shipped"], now=at(hours=-1))
    agents.run_agent(world.context(), "outbox")                     # the checkpoint: existing history
    w = world.place("hooked", at(), status="submitted")
    world.act("hooked", "carl", "approve", at())
    agents.run_agent(world.context(), "outbox")
    event_id = f"{w['number']}:0001"
    delivery_id = f"delivery:{hook['_id'][8:]}:{event_id}"
    assert world.admin.get(delivery_id)["state"] == "pending"

    first = agents.run_agent(world.context(), "webhooks")            # the receiver answers 500
    d = world.admin.get(delivery_id)
    assert d["attempts"] == 1 and d["state"] == "pending" and d["last_error"] == "HTTP 500"
    assert d["next_at"] == clock.iso(T0 + dt.timedelta(seconds=30))
    assert any("attempt 1 failed" in t["what"] for t in first["touched"])
    agents.run_agent(world.context(T0 + dt.timedelta(seconds=10)), "webhooks")   # not due yet
    assert len(receiver.requests) == 1
    agents.run_agent(world.context(T0 + dt.timedelta(seconds=31)), "webhooks")
    d = world.admin.get(delivery_id)
    assert d["state"] == "delivered" and d["attempts"] == 2 and len(receiver.requests) == 2

    (h1, b1), (h2, b2) = receiver.requests
    assert h1["X-OMS-Event-Id"] == h2["X-OMS-Event-Id"] == event_id and b1 == b2      # same id: de-duplicable
    payload = json.loads(b2)
    assert payload["name"] == "order.approved" and payload["order"] == w["number"] and payload["by"] == "carl"
    expected = "sha256=" + hmac.new(hook["secret"].encode(), b2, hashlib.sha256).hexdigest()
    assert h2["X-OMS-Signature"] == expected and h2["X-OMS-Attempt"] == "2"
    # events the webhook did not ask for, and events before it was registered, are not sent
    assert not world.admin.get_or_none(f"delivery:{hook['_id'][8:]}:{w['number']}:0000")
    agents.run_agent(world.context(T0 + dt.timedelta(hours=1)), "webhooks")
    assert len(receiver.requests) == 2                                 # delivered stays delivered


def test_a_delivery_that_keeps_failing_backs_off_then_is_marked_dead(world):
    dead = Receiver(failures=100)
    try:
        mia_db = world.svc("mia", at()).db
        hook = webhooks.register(mia_db, "mia", dead.url, ["order.created"], now=at(hours=-1))
        w = world.place("doomed", at())
        agents.run_agent(world.context(), "outbox")
        delivery_id = f"delivery:{hook['_id'][8:]}:{w['number']}:0000"
        when = T0
        waits = []
        for _ in range(webhooks.settings()["max_attempts"]):
            agents.run_agent(world.context(when), "webhooks")
            d = world.admin.get(delivery_id)
            if d["state"] == "dead":
                break
            waits.append((clock.parse(d["next_at"]) - when).total_seconds())
            when = clock.parse(d["next_at"])
        assert d["state"] == "dead" and d["attempts"] == webhooks.settings()["max_attempts"]
        assert waits == webhooks.settings()["backoff_seconds"][:len(waits)]
        webhooks.deactivate(mia_db, hook["_id"])
    finally:
        dead.close()


def test_events_are_listed_by_the_api_to_those_who_may_read_their_order(world, stack):
    from webapp import create_app
    app = create_app({"TESTING": True}, settings=stack.settings.with_(db_name=world.name))
    agents.run_agent(world.context(), "outbox")
    import base64

    def events(name):
        auth = {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}
        out, cursor = [], None
        while True:
            r = app.test_client().get("/api/v1/events?limit=7" + (f"&after={cursor}" if cursor else ""), headers=auth)
            assert r.status_code == 200, r.get_json()
            body = r.get_json()
            out += body["events"]
            cursor = body["next"]
            if not cursor:
                return out
    hidden = world.orders["hidden"]
    assert any(e["order"] == hidden for e in events("mia"))
    carl = events("carl")
    assert carl and not any(e["order"] == hidden for e in carl)
    assert len({e["event_id"] for e in carl}) == len(carl)


# ------------------------------------------------------------------ the schedule, the log, the command line
def test_the_scheduler_runs_what_is_due_once_even_with_two_schedulers(world):
    when = T0 + dt.timedelta(days=3, hours=8)     # after the daily 07:00 slot
    results = []
    threads = [threading.Thread(target=lambda: results.append(agents.run_due(world.context(when)))) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    ran = sorted(doc["agent"] for docs in results for doc in docs)
    assert ran == sorted(agents.AGENTS)
    assert agents.run_due(world.context(when + dt.timedelta(seconds=20))) == []
    later = [d["agent"] for d in agents.run_due(world.context(when + dt.timedelta(minutes=16)))]
    assert "escalation" in later and "reminders" not in later and "expiry" not in later


def test_notifications_show_in_the_web_app_with_a_badge(world, stack):
    from tests.conftest import WebClient
    from webapp import create_app
    app = create_app({"TESTING": True}, settings=stack.settings.with_(db_name=world.name))
    agents.run_agent(world.context(), "escalation")
    web = WebClient(app)
    web.login("carl")
    badge = web.get("/notifications/badge").get_data(as_text=True)
    assert 'class="badge"' in badge
    page = web.get("/notifications").get_data(as_text=True)
    assert world.orders["late_submitted"] in page and "overdue in Submitted" in page
    assert world.orders["hidden"] not in page
    assert 'class="badge"' not in web.get("/notifications/badge").get_data(as_text=True)   # seen now
    web.login("mia")
    assert "Agent runs" in web.get("/admin/agents").get_data(as_text=True)
    assert "escalation" in web.get("/admin/agents").get_data(as_text=True)


def test_oms_agents_run_from_the_command_line_with_a_fixed_time(world):
    from oms.cli.main import main
    env = world.settings.with_(db_name=world.name).to_env()
    result = CliRunner().invoke(main, ["agents", "run", "--only", "expiry", "--only", "outbox", "--now", at(days=60)],
                                env=env)
    assert result.exit_code == 0, result.output
    assert "expiry" in result.output and "outbox" in result.output
    assert "cancelled: draft untouched" in result.output            # the young draft, 62 days later
    assert world.get("young_draft")["status"] == "cancelled"


def test_housekeeping_forgets_old_idempotency_records_but_keeps_import_claims(world):
    from oms.store.idempotency import Idempotency, Outcome, record_id
    sally_db = world.svc("sally", at()).db
    old = Idempotency(sally_db, "sally", clock=lambda: at(days=-10))
    old.run("old-key", "fp", reserve=dict, perform=lambda r: Outcome(201, {}))
    Idempotency(sally_db, "sally", clock=lambda: at(days=-1)).run("new-key", "fp", reserve=dict,
                                                                   perform=lambda r: Outcome(201, {}))
    claim = {"_id": record_id("ref", "orders", "ERP-1"), "type": "idem", "scope": "ref", "by": "sally",
             "fingerprint": "f", "reserved": {}, "at": at(days=-100)}
    sally_db.save(claim)
    run = agents.run_agent(world.context(), "housekeeping")
    assert world.admin.get_or_none(record_id("person", "sally", "old-key")) is None
    assert world.admin.get_or_none(record_id("person", "sally", "new-key")) is not None
    assert world.admin.get_or_none(claim["_id"]) is not None
    assert record_id("person", "sally", "old-key") in touched_ids(run)
