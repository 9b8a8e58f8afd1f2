"""validate_doc_update for the desk's own records (lib/records.js), run as the
real JavaScript under node: who may write tokens, events, deliveries, notifications, run logs,
idempotency records, and orders imported with their history."""
from __future__ import annotations

import copy

from tests import designjs

AGENT = ("oms-agent", ["level:editor", "[Sales]", "[Credit]"])
SALLY = ("sally", ["level:author", "[Sales]"])
CARL = ("carl", ["level:editor", "[Credit]"])
MIA = ("mia", ["level:manager", "[Manager]"])


def check(new, old=None, who=SALLY):
    return designjs.validate(new, old, who[0], who[1])


def refused(result, needle):
    return "forbidden" in result and needle in result["forbidden"]


TOKEN = {"_id": "apitoken:abc", "type": "api_token", "client": "erp", "identity": "api.erp", "level": "author",
         "roles": [], "hash": "a" * 64, "created_by": "mia", "created_at": "2026-01-01T00:00:00Z"}


def test_only_a_manager_writes_api_tokens_and_only_as_a_hash():
    assert check(TOKEN, who=MIA) == {"ok": True}
    assert refused(check(TOKEN, who=CARL), "Only Manager or above may write API tokens")
    assert refused(check(dict(TOKEN, hash="secret-token"), who=MIA), "sha256 hash")
    revoked = dict(TOKEN, revoked_at="2026-01-02T00:00:00Z", revoked_by="mia")
    assert check(revoked, TOKEN, who=MIA) == {"ok": True}
    assert refused(check(dict(TOKEN, level="manager"), TOKEN, who=MIA), "level of an API token cannot change")
    assert refused(check(TOKEN, revoked, who=MIA), "stays revoked")


EVENT = {"_id": "event:SO-000001:0000", "type": "event", "name": "order.created", "order": "SO-000001",
         "at": "2026-01-01T00:00:00Z"}


def test_events_are_written_by_editors_such_as_the_agent_and_never_change():
    assert check(EVENT, who=AGENT) == {"ok": True}
    assert refused(check(EVENT, who=SALLY), "Only Editor or above may write order events")
    assert refused(check(dict(EVENT, name="order.shipped"), EVENT, who=AGENT), "never changes")


def test_a_delivered_webhook_delivery_stays_delivered():
    d = {"_id": "delivery:h:e", "type": "delivery", "webhook": "webhook:h", "event": "event:e", "state": "delivered",
         "attempts": 1}
    assert refused(check(dict(d, state="pending"), d, who=AGENT), "stays delivered")
    assert refused(check(dict(d, state="lost"), None, who=AGENT), "pending, delivered or dead")


def test_notifications_keep_their_content_and_only_their_mail_state_changes():
    n = {"_id": "notification:x", "type": "notification", "to": ["[Credit]"], "subject": "s", "text": "t",
         "kind": "escalation", "at": "2026-01-01T00:00:00Z", "by": "oms-agent", "mail": {"state": "pending"}}
    assert check(n, who=AGENT) == {"ok": True}
    assert check(dict(n, mail={"state": "sent"}), n, who=AGENT) == {"ok": True}
    assert refused(check(dict(n, subject="changed"), n, who=AGENT), "subject of a notification cannot change")
    assert refused(check(n, who=SALLY), "Only Editor or above may write notifications")


def test_people_mark_only_their_own_notifications_seen():
    seen = {"_id": "seen:sally", "type": "notification_seen", "name": "sally", "at": "2026-01-01T00:00:00Z"}
    assert check(seen, who=SALLY) == {"ok": True}
    assert refused(check(dict(seen, _id="seen:carl", name="carl"), who=SALLY), "your own notifications")


def test_idempotency_records_belong_to_their_sender_and_record_one_outcome():
    rec = {"_id": "idem:x", "type": "idem", "scope": "person", "by": "sally", "fingerprint": "f", "reserved": {"number": "SO-000001"},
           "at": "2026-01-01T00:00:00Z"}
    assert check(rec, who=SALLY) == {"ok": True}
    assert refused(check(rec, who=CARL), "must name you (carl)")
    done = dict(rec, response={"status": 201})
    assert check(done, rec, who=SALLY) == {"ok": True}
    assert refused(check(done, rec, who=CARL), "Only sally may complete")
    assert refused(check(dict(rec, reserved={"number": "SO-000009"}), rec, who=SALLY), "reserved")
    assert refused(check(dict(done, response={"status": 500}), done, who=SALLY), "written once")


def claims(prefix, refs, by="sally", kind="orders"):
    return {"_id": f"refclaims:{kind}:{prefix}", "type": "ref_claims", "kind": kind, "prefix": prefix,
            "refs": {r: {"number": f"SO-{i + 1:06d}", "fingerprint": "f" * 64, "by": by, "at": "2026-01-01T00:00:00Z"}
                     for i, r in enumerate(refs)}}


def test_import_claims_only_grow_and_each_new_claim_names_its_writer():
    doc = claims("ERP-47", ["ERP-4711", "ERP-4700"])
    assert check(doc, who=SALLY) == {"ok": True}
    assert refused(check(doc, who=CARL), "must name you (carl)")
    more = copy.deepcopy(doc)
    more["refs"]["ERP-4712"] = {"number": "SO-000009", "fingerprint": "e" * 64, "by": "carl", "at": "2026-01-02T00:00:00Z"}
    assert check(more, doc, who=CARL) == {"ok": True}          # others add theirs beside sally's
    changed = copy.deepcopy(doc)
    changed["refs"]["ERP-4711"]["number"] = "SO-000099"
    assert refused(check(changed, doc, who=SALLY), 'The claim of "ERP-4711" cannot change or go')
    gone = copy.deepcopy(doc)
    del gone["refs"]["ERP-4700"]
    assert refused(check(gone, doc, who=SALLY), 'The claim of "ERP-4700" cannot change or go')
    assert check(gone, doc, who=("admin", ["_admin"])) == {"ok": True}   # a site's replication, as admin


def test_an_import_claim_sits_in_the_document_its_reference_names():
    assert refused(check(claims("ERP-4", ["ERP-4711"])), "belongs in refclaims:orders:ERP-47")
    assert refused(check(claims("ERP-", ["ERP-4711"])), "belongs in refclaims:orders:ERP-47")
    assert refused(check(dict(claims("ERP-47", ["ERP-4711"]), _id="refclaims:orders:X")), '"refclaims:" + kind')
    assert refused(check(dict(claims("ERP-47", ["ERP-4711"]), refs=[])), "need refs")
    bad = claims("ERP-47", ["ERP-4711"])
    del bad["refs"]["ERP-4711"]["fingerprint"]
    assert refused(check(bad), "needs number, fingerprint, by and at")
    assert check(claims("", ["7", "42"])) == {"ok": True}
    assert check(claims("A-1x", ["A-1x", "A-1x0", "A-1x99"])) == {"ok": True}


def test_python_and_couchdb_put_every_reference_in_the_same_claim_document():
    from oms.interchange.refclaims import doc_id, prefix_of
    refs = ["ERP-4711", "4711", "7", "", "A", "A1", "A12", "A123", "X-9a", "x99y", "\u00e9t\u00e912", "\U0001f600 12",
            "12\U0001f60034", "\u0663\u0664", "ref/with:odd chars 05", "0" * 100, "Z" * 99 + "1"]
    cases = [{"kind": "validate", "newDoc": {**claims(prefix_of(r), [r]), "_id": doc_id("orders", r)}, "oldDoc": None,
              "userCtx": {"name": "sally", "roles": list(SALLY[1]), "db": "orders"}} for r in refs]
    for ref, result in zip(refs, designjs.run(cases)):
        assert result == {"ok": True}, (ref, result)


def test_an_agent_run_is_logged_as_its_signer():
    run = {"_id": "agentrun:x", "type": "agent_run", "agent": "escalation", "started_at": "2026-01-01T00:00:00Z",
           "by": "oms-agent"}
    assert check(run, who=AGENT) == {"ok": True}
    assert refused(check(dict(run, by="mia"), who=AGENT), "logged as its signer")


IMPORTED = {
    "_id": "order:SO-000123", "type": "order", "number": "SO-000123",
    "customer": {"id": "customer:N0100", "name": "Northwind"},
    "lines": [{"line": 1, "sku": "WID-100", "qty": 2, "unit_price_cents": 450, "amount_cents": 900}],
    "totals": {"net_cents": 900, "qty": 2}, "currency": "EUR", "status": "approved", "priority": 2, "version": 1,
    "created_by": "sally", "created_at": "2019-04-02T08:15:00Z", "updated_by": "oms-agent",
    "updated_at": "2026-01-01T00:00:00Z", "authors": ["sally"], "imported": {"source": "dxl", "ref": "ABC"},
    "history": [{"at": "2019-04-02T08:15:00Z", "by": "sally", "action": "create", "to": "draft", "legacy": True},
                {"at": "2019-04-03T08:15:00Z", "by": "carl", "action": "approve", "to": "approved", "legacy": True},
                {"at": "2026-01-01T00:00:00Z", "by": "oms-agent", "action": "import", "from": None, "to": "approved"}],
}


def test_an_order_with_its_notes_history_is_imported_only_by_the_agent_or_a_manager():
    assert check(IMPORTED, who=AGENT) == {"ok": True}
    as_mia = copy.deepcopy(IMPORTED)
    as_mia["updated_by"] = as_mia["history"][-1]["by"] = "mia"
    assert check(as_mia, who=MIA) == {"ok": True}
    as_carl = copy.deepcopy(IMPORTED)
    as_carl["updated_by"] = as_carl["history"][-1]["by"] = "carl"
    assert refused(check(as_carl, who=CARL), "Only a Manager or oms-agent may import orders")


def test_an_imported_order_must_mark_earlier_history_legacy_and_end_with_the_import():
    forged = copy.deepcopy(IMPORTED)
    del forged["history"][1]["legacy"]
    assert refused(check(forged, who=AGENT), "history[1] came from the other system")
    no_import = copy.deepcopy(IMPORTED)
    no_import["history"][-1]["action"] = "ship"
    assert refused(check(no_import, who=AGENT), 'ends its history with {action: "import"')
    bad_sum = copy.deepcopy(IMPORTED)
    bad_sum["totals"]["net_cents"] = 1
    assert refused(check(bad_sum, who=AGENT), "Invalid order: totals.net_cents")


def test_escalation_may_be_written_by_an_edit_in_any_open_stage():
    old = copy.deepcopy(IMPORTED)
    old.pop("imported")
    old["status"] = "shipped"
    old["history"] = [{"at": "2026-01-01T00:00:00Z", "by": "sam", "action": "create", "from": None, "to": "shipped"}]
    new = copy.deepcopy(old)
    new["escalation"] = {"stage": "shipped", "since": "2026-01-01T00:00:00Z"}
    new["history"] = old["history"] + [{"at": "2026-01-06T00:00:00Z", "by": "oms-agent", "action": "edit",
                                        "from": "shipped", "to": "shipped", "changes": ["escalation"]}]
    assert check(new, old, who=AGENT) == {"ok": True}
    new["priority"] = 1
    assert refused(check(new, old, who=AGENT), "The field priority cannot change while the order is Shipped")
