"""Amend (versions kept), cancel with a reason, responses under the order, Depositors, and the
action bar showing only what the person may do: through the web, the API and the server."""
import base64
import re

import pytest

from oms.core.errors import InvalidInput
from oms.store.couch import Forbidden


def basic(name):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}


LINES = [{"sku": "WID-100", "qty": 10, "unit_price": "4.50"}]


@pytest.fixture
def approved(service):
    doc = service("sally").create({"customer": "C0002", "lines": LINES})
    service("sally").act(doc["number"], "submit")
    return service("carl").act(doc["number"], "approve")


def test_an_amendment_keeps_the_previous_version_and_goes_back_to_submitted(service, approved, admin_db):
    amended = service("sally").amend(approved["number"], [{"sku": "WID-100", "qty": 12, "unit_price": "4.50"}],
                                     "customer wants two more")
    assert amended["version"] == 2 and amended["status"] == "submitted"
    assert amended["totals"]["qty"] == 12
    kept = admin_db.get(f"{approved['_id']}:v1")
    assert kept["type"] == "order_version" and kept["lines"][0]["qty"] == 10
    assert kept["superseded_by"] == "sally" and kept["reason"] == "customer wants two more"
    entry = amended["history"][-1]
    assert (entry["action"], entry["by"], entry["reason"]) == ("amend", "sally", "customer wants two more")


def test_a_refused_amendment_keeps_no_version(service, approved, admin_db):
    """Nothing half-written: the new revision is checked before the old one is kept."""
    with pytest.raises(Exception, match="(?i)may not|only"):
        service("rita").amend(approved["number"], [{"sku": "WID-100", "qty": 12, "unit_price": "4.50"}], "a reader")
    too_big = [{"sku": f"S-{i}", "qty": 1, "unit_price": "1.00"} for i in range(1000)]
    with pytest.raises(InvalidInput):
        service("sally").amend(approved["number"], too_big, "too many lines")
    assert admin_db.get_or_none(f"{approved['_id']}:v1") is None
    assert admin_db.get(approved["_id"])["version"] == 1


def test_a_kept_version_can_never_change(person, service, approved):
    service("sally").amend(approved["number"], LINES, "same again")
    _, db = person("mia")
    kept = db.get(f"{approved['_id']}:v1")
    kept["lines"][0]["qty"] = 99
    with pytest.raises(Forbidden, match="never changes"):
        db.save(kept)


def test_an_amendment_never_silently_edits_a_shipped_line(service, approved, admin_db):
    doc = admin_db.get(approved["_id"])
    doc["lines"][0]["shipped_qty"] = 4  # as a partial shipment would have left it
    doc["history"].append({"at": "2026-11-25T12:00:00Z", "by": "admin", "action": "edit", "from": "approved", "to": "approved"})
    admin_db.save(doc)
    with pytest.raises(InvalidInput, match="line 1 has 4 shipped"):
        service("sally").amend(approved["number"], [{"sku": "WID-100", "qty": 3, "unit_price": "4.50"}], "less")
    ok = service("sally").amend(approved["number"], [{"sku": "WID-100", "qty": 5, "unit_price": "4.50"}], "less")
    assert ok["lines"][0]["shipped_qty"] == 4


def test_cancel_needs_a_reason_and_records_it(service, approved):
    with pytest.raises(InvalidInput, match="needs a reason"):
        service("sally").act(approved["number"], "cancel", reason="  ")
    done = service("sally").act(approved["number"], "cancel", reason="duplicate order")
    assert done["status"] == "cancelled" and done["cancel_reason"] == "duplicate order"
    assert done["history"][-1]["reason"] == "duplicate order"


def test_the_action_bar_shows_only_what_the_person_may_take(web, approved):
    n = approved["number"]
    web.login("wanda")
    bar = re.search(r'<div class="actionbar".*?</div>', web.get(f"/orders/{n}").get_data(as_text=True), re.S).group(0)
    assert "Allocate stock" in bar and "Approve credit" not in bar and "Cancel" not in bar
    web.login("rita")
    assert 'class="actionbar"' not in web.get(f"/orders/{n}").get_data(as_text=True)


def test_an_action_through_the_web_moves_the_order(web, approved):
    n = approved["number"]
    web.login("wanda")
    r = web.post(f"/orders/{n}/act", {"action": "allocate"}, csrf_from=f"/orders/{n}")
    assert r.status_code == 303
    assert "Allocated" in web.get(f"/orders/{n}").get_data(as_text=True)


def test_an_action_the_person_may_not_take_is_a_403_with_the_reason(app, approved):
    r = app.test_client().post(f"/api/v1/orders/{approved['number']}/actions", headers=basic("sally"),
                               json={"action": "allocate"})
    assert r.status_code == 403
    assert "Only [Warehouse]" in r.get_json()["detail"]


def test_amend_through_the_api(app, approved):
    r = app.test_client().post(f"/api/v1/orders/{approved['number']}/actions", headers=basic("sally"),
                               json={"action": "amend", "reason": "more", "changes": {"lines": [{"sku": "WID-100", "qty": 11, "unit_price": "4.50"}]}})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["version"] == 2


def test_a_stale_revision_is_a_409(app, approved):
    r = app.test_client().post(f"/api/v1/orders/{approved['number']}/actions", headers=basic("wanda"),
                               json={"action": "allocate", "rev": "1-stale"})
    assert r.status_code == 409


def test_responses_show_under_the_order_and_cannot_be_edited(web, person, approved):
    n = approved["number"]
    web.login("carl")
    r = web.post(f"/orders/{n}/comments", {"text": "Credit checked <b>ok</b>"}, csrf_from=f"/orders/{n}")
    assert r.status_code == 303
    page = web.get(f"/orders/{n}").get_data(as_text=True)
    assert "Credit checked &lt;b&gt;ok&lt;/b&gt;" in page  # escaped, never markup
    _, db = person("carl")
    c = db.view("oms", "comments_by_parent", start_key=[approved["_id"]], end_key=[approved["_id"], {}])["rows"][0]
    doc = db.get(c["id"])
    doc["text"] = "changed"
    with pytest.raises(Forbidden, match="cannot be edited"):
        db.save(doc)


def test_a_reader_may_not_comment(person, approved):
    access, db = person("rita")
    with pytest.raises(Forbidden, match="may not comment"):
        db.save({"_id": "comment:rita1", "type": "comment", "parent": approved["_id"], "text": "hi",
                 "by": "rita", "at": "2026-11-25T12:00:00Z"})


def test_a_depositor_places_orders_but_reads_none(service, person):
    svc = service("dora", level="depositor")
    doc = svc.create({"customer": "C0003", "status": "submitted", "lines": LINES})
    assert doc["status"] == "submitted"
    from oms.store.couch import NotFound
    with pytest.raises(NotFound):
        svc.get(doc["number"])
    access, db = person("dora", level="depositor")
    mine = db.get(doc["_id"])  # CouchDB itself cannot hide it: the app does (docs/architecture.md)
    mine["notes"] = "changed"
    mine["history"].append({"at": "2026-11-25T12:00:00Z", "by": "dora", "action": "edit", "from": "submitted", "to": "submitted"})
    with pytest.raises(Forbidden, match="Depositor you may not change orders"):
        db.save(mine)


def test_a_reader_may_not_create_orders_even_straight_against_the_server(person):
    import copy

    from tests.unit.test_schema_parity import GOOD
    _, db = person("rita")
    doc = copy.deepcopy(GOOD)
    doc.update(_id="order:SO-880001", number="SO-880001", created_by="rita", updated_by="rita")
    doc["history"][0]["by"] = "rita"
    with pytest.raises(Forbidden, match="As Reader you may not create orders"):
        db.save(doc)
