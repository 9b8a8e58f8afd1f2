"""Illegal moves written straight to CouchDB with a person's own credentials are refused, and
the history is append-only, whoever writes."""
import copy

import pytest

from oms.ordering import workflow
from oms.store.couch import Forbidden
from tests.viewdata import repriced

NOW = "2026-11-25T12:00:00Z"


@pytest.fixture
def draft(service):
    return service("sally").create({"customer": "C0001", "lines": [{"sku": "WID-100", "qty": 2, "unit_price": "4.50"}]})


def forced(access, doc, action, to, **changes):
    """A next revision built by hand, skipping the app's own checks (as curl would)."""
    new = copy.deepcopy(doc)
    new.update(status=to, updated_by=access.name, updated_at=NOW, **changes)
    new["history"] = doc["history"] + [workflow.history_entry(access, NOW, action, doc["status"], to, "x")]
    return new


def test_draft_straight_to_shipped_is_refused(person, draft):
    access, db = person("sam")
    with pytest.raises(Forbidden, match='"Ship" cannot be taken from Draft'):
        db.save(forced(access, draft, "ship", "shipped"))


def test_a_salesperson_cannot_approve_credit(person, service, draft):
    submitted = service("sally").act(draft["number"], "submit")
    access, db = person("sally")
    with pytest.raises(Forbidden, match=r"Only \[Credit\]"):
        db.save(forced(access, submitted, "approve", "approved"))


def test_a_status_change_disguised_as_an_edit_is_refused(person, draft):
    access, db = person("mia")
    with pytest.raises(Forbidden, match="needs a workflow action"):
        db.save(forced(access, draft, "edit", "approved"))


def test_prices_are_frozen_after_approval(person, service, draft):
    service("sally").act(draft["number"], "submit")
    approved = service("carl").act(draft["number"], "approve")
    access, db = person("carl")
    new = repriced(forced(access, approved, "edit", "approved"), 0, 1)
    with pytest.raises(Forbidden, match="lines cannot change while the order is Approved"):
        db.save(new)


def test_history_entries_cannot_be_edited_or_removed_even_by_a_manager(person, draft):
    access, db = person("mia")
    rewritten = forced(access, draft, "edit", "draft")
    rewritten["history"][0]["by"] = "mia"
    with pytest.raises(Forbidden, match="History entries cannot be edited or removed"):
        db.save(rewritten)
    dropped = copy.deepcopy(draft)
    dropped["history"] = []
    with pytest.raises(Forbidden):
        db.save(dropped)


def test_even_the_server_admin_cannot_rewrite_history(admin_db, draft):
    doc = copy.deepcopy(draft)
    doc["history"][0]["at"] = "2000-01-01T00:00:00Z"
    doc["history"].append({"at": NOW, "by": "admin", "action": "edit", "from": "draft", "to": "draft"})
    with pytest.raises(Forbidden, match="History entries cannot be edited"):
        admin_db.save(doc)


def test_a_history_entry_must_name_the_writer(person, draft):
    access, db = person("sally")
    new = forced(access, draft, "edit", "draft", notes="hello")
    new["history"][-1]["by"] = "carl"
    with pytest.raises(Forbidden, match="must name you"):
        db.save(new)


def test_a_reason_is_required_where_the_rulebook_says_so(person, draft):
    access, db = person("sally")
    new = forced(access, draft, "cancel", "cancelled", cancel_reason="x")
    del new["history"][-1]["reason"]
    with pytest.raises(Forbidden, match='"Cancel" needs a reason'):
        db.save(new)


def test_hold_and_release_return_to_the_stage_it_was_held_in(service, draft):
    service("sally").act(draft["number"], "submit")
    service("carl").act(draft["number"], "approve")
    held = service("mia").act(draft["number"], "hold", reason="customer called")
    assert held["status"] == "on_hold" and held["held_from"] == "approved"
    released = service("carl").act(draft["number"], "release")
    assert released["status"] == "approved" and "held_from" not in released


def test_a_write_based_on_a_stale_revision_is_a_conflict_not_a_refusal(service, person, draft):
    """PouchDB Server validates against the current revision; the repository still says 409."""
    from oms.store.couch import Conflict
    service("sally").act(draft["number"], "submit")  # draft is now stale
    access, db = person("sally")
    with pytest.raises(Conflict):
        db.save(forced(access, draft, "edit", "draft", notes="late edit"))
