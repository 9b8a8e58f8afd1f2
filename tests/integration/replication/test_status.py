"""The replication status: each partner replication's state, last checkpoint, pending changes and
refusals, from what the server offers (PouchDB Server: the _replicator document, the checkpoint
document and the source's changes; CouchDB 3: _scheduler/docs and the source's changes)."""
from replication import status
from replication.partners import database_name

from .conftest import eventually


def test_each_partner_replication_reports_state_checkpoint_and_pending(rserver, rsettings, demo_partners):
    def settled():
        rows = status.partner_states(rserver, rsettings)
        return len(rows) == 4 and all(r.state == "running" and r.checkpoint and r.pending == 0 for r in rows) and rows
    # CouchDB 3 checkpoints on a timer (replicator.CHECKPOINT_INTERVAL_MS after the job moved on),
    # PouchDB after each batch: a deadline for a timer on a busy machine
    rows = eventually(settled, timeout=60, what="all four partner replications running, checkpointed, nothing pending")
    assert {(r.name, r.direction) for r in rows} == {("acme", "push"), ("acme", "pull"),
                                                      ("globex", "push"), ("globex", "pull")}
    pull = next(r for r in rows if r.name == "acme" and r.direction == "pull")
    assert pull.source.endswith("/" + database_name("acme", rsettings.namespace))
    assert pull.target.endswith("/" + rsettings.db_name)


def test_refused_partner_changes_count_as_failures_of_the_pull(rserver, rsettings, partners, partner_service,
                                                              central_admin):
    alice = partner_service("alice@acme")
    order = alice.place({"customer": "ACME-01", "lines": [{"sku": "WID-100", "qty": 3, "unit_price": "4.50"}]})
    eventually(lambda: central_admin.get_or_none(order["_id"]), what="the order reaches the centre")
    mine = alice.db.get(order["_id"])
    mine.update(readers=["alice@acme"], updated_by="alice@acme")
    mine["history"].append({"at": "2026-11-25T12:00:00Z", "by": "alice@acme", "action": "edit",
                            "from": "submitted", "to": "submitted", "changes": ["readers"]})
    alice.db.save(mine)
    eventually(lambda: partners.audit("acme") or alice.rejections(), what="the refusal is recorded")
    pull = next(r for r in status.partner_states(rserver, rsettings) if r.name == "acme" and r.direction == "pull")
    assert pull.failures >= 1 and any("refused by the centre" in e for e in pull.errors)


def test_the_status_page_is_for_editors_and_above(rweb):
    rweb.login("sally")
    assert rweb.get("/replication/").status_code == 403
    rweb.login("mia")
    page = rweb.get("/replication/").get_data(as_text=True)
    assert "acme" in page and "globex" in page and "Restart" in page


def test_a_manager_restarts_a_partner_replication(rweb, rserver, rsettings):
    push = rsettings.namespace.scoped("oms-partner-acme-push")
    rweb.login("mia")
    before = rserver.admin("_replicator").get(push)["_rev"]
    resp = rweb.post("/replication/restart", {"id": push}, csrf_from="/replication/")
    assert resp.status_code == 303
    assert rserver.admin("_replicator").get(push)["_rev"] != before
    # another desk's replication on the same server is not this desk's Manager's to restart
    assert rweb.post("/replication/restart", {"id": "oms-partner-acme-push"}, csrf_from="/replication/").status_code == 400
    rweb.login("carl")
    assert rweb.post("/replication/restart", {"id": push}, csrf_from="/replication/").status_code == 403


def test_a_restarted_partner_replication_still_delivers(rweb, rserver, rsettings, central_admin):
    # PouchDB Server kept a deleted replication's signature, so the document written anew by a
    # restart (same spec) never started (patches/pouchdb-replicator.patch): Restart stopped it.
    from uuid import uuid4
    rweb.login("mia")
    push = rsettings.namespace.scoped("oms-partner-acme-push")
    assert rweb.post("/replication/restart", {"id": push}, csrf_from="/replication/").status_code == 303
    customer = {"_id": f"customer:ACME-{uuid4().hex[:6].upper()}", "type": "customer", "name": "After Restart Ltd",
                "tier": "silver", "currency": "EUR", "partner": "acme"}
    central_admin.save(customer)
    copy = rserver.admin(database_name("acme", rsettings.namespace))
    arrived = eventually(lambda: copy.get_or_none(customer["_id"]), what="a change after the restart reaches the partner")
    assert arrived["name"] == "After Restart Ltd"
