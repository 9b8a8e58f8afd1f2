"""An offline site on its own real PouchDB Server: a full two-way replica whose people keep
working while the link is down (the branch's server stopped); both sides converge when it is
back, edits of different fields of one order merge by themselves, and edits of the same field
show in the Conflicts view until a person with the right level resolves them."""
import pytest

from oms.devstack.embedded import EmbeddedCouch
from oms.store.couch import CouchServer, Forbidden
from replication import conflicts, sites, status

from .conftest import Link, eventually

BRANCH_ADMIN = ("branch_admin", "branch-secret")


@pytest.fixture(scope="module")
def branch(tmp_path_factory, rserver, rsettings, demo_partners):
    data = tmp_path_factory.mktemp("branch")
    couch = EmbeddedCouch(data, *BRANCH_ADMIN).start()
    link = Link(int(rserver.url.rsplit(":", 1)[1])).up()   # the branch reaches the centre through it
    state = {"couch": couch, "link": link}
    url = f"http://{BRANCH_ADMIN[0]}:{BRANCH_ADMIN[1]}@127.0.0.1:{couch.port}/orders"
    outcome = sites.setup(rserver, rsettings, url, name="branch1", block=1000, progress=lambda *_: None,
                          centre_url=link.url)
    state.update(url=url, outcome=outcome, data=data, port=couch.port,
                 server=CouchServer(couch.url, *BRANCH_ADMIN))

    def stop():
        state["couch"].stop()

    def start():
        state["couch"] = EmbeddedCouch(data, *BRANCH_ADMIN, port=state["port"]).start()

    state.update(stop=stop, start=start)
    yield state
    state["couch"].stop()
    link.down()


def test_a_site_gets_a_full_replica_and_its_own_block_of_order_numbers(branch, central_admin, staff):
    order = staff("sally").create({"customer": "C0003", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "4.50"}]})
    bdb = branch["server"].admin("orders")
    eventually(lambda: bdb.get_or_none(order["_id"]), what="a central order reaches the branch")
    assert bdb.get("_design/oms")["_rev"] == central_admin.get("_design/oms")["_rev"]
    counter = bdb.get("counter:order")
    assert counter["limit"] - counter["value"] == 1000
    assert central_admin.get("counter:order")["value"] >= counter["limit"]
    assert "_design/site" not in {r["id"] for r in central_admin.all_docs(start_key="_design/", end_key="_design0")["rows"]}


def test_stock_is_not_allocated_at_a_site(branch, staff):
    order = staff("sally").create({"customer": "C0004", "status": "submitted",
                                   "lines": [{"sku": "SPR-010", "qty": 4, "unit_price": "0.80"}]})
    staff("carl").act(order["number"], "approve")
    wanda_here = staff("wanda", server=branch["server"], db_name="orders")
    eventually(lambda: wanda_here.get(order["number"])["status"] == "approved", what="the approval reaches the branch")
    with pytest.raises(Forbidden, match="happens at the centre only"):
        wanda_here.act(order["number"], "allocate")
    assert staff("wanda").act(order["number"], "allocate")["status"] == "allocated"


def test_offline_edits_on_both_sides_converge_and_conflicts_surface_and_resolve(
        branch, rserver, rsettings, central_admin, staff, agent, rapp, rweb):
    sally = staff("sally")
    same = sally.create({"customer": "C0005", "status": "submitted", "notes": "original",
                         "lines": [{"sku": "GAD-310", "qty": 2, "unit_price": "39.90"}]})
    different = sally.create({"customer": "C0006", "status": "submitted",
                              "lines": [{"sku": "GIZ-400", "qty": 3, "unit_price": "7.25"}]})
    twice = sally.create({"customer": "C0007", "status": "submitted",
                          "lines": [{"sku": "BOLT-M8", "qty": 50, "unit_price": "0.15"}]})
    sally_here = staff("sally", server=branch["server"], db_name="orders")
    for o in (same, different, twice):
        eventually(lambda o=o: sally_here.get(o["number"]), what="the orders reach the branch")

    branch["link"].down()   # the branch goes offline: link cut and its server stopped
    branch["stop"]()
    offline_rows = status.site_states(rserver, rsettings)
    assert {r.state for r in offline_rows if r.name == "branch1"} == {"unreachable"}
    staff("mia").act(same["number"], "edit", changes={"notes": "from the centre"})
    staff("carl").act(different["number"], "approve")
    central_new = sally.create({"customer": "C0008", "lines": [{"sku": "WID-200", "qty": 1, "unit_price": "12.00"}]})
    branch["start"]()       # the branch's server is back, still without a link: people work there
    sally_here = staff("sally", server=branch["server"], db_name="orders")
    assert sally_here.get(same["number"]).get("notes") == "original"
    sally_here.act(same["number"], "edit", changes={"notes": "from the branch"})
    sally_here.act(different["number"], "edit", changes={"priority": 1})
    sally_here.act(twice["number"], "edit", changes={"notes": "first"})
    sally_here.act(twice["number"], "edit", changes={"notes": "second"})
    offline = sally_here.create({"customer": "C0002", "status": "submitted",
                                 "lines": [{"sku": "WID-100", "qty": 7, "unit_price": "4.50"}]})
    counter = branch["server"].admin("orders").get("counter:order")
    assert counter["limit"] >= int(offline["number"][3:]) > counter["limit"] - 1000
    branch["link"].up()     # online again: both sides converge

    # Converge: each side has the other's new order and both edits of `twice` (two entries at once).
    eventually(lambda: central_admin.get_or_none(offline["_id"]), what="the offline order reaches the centre")
    assert central_admin.get(offline["_id"])["status"] == "submitted"
    eventually(lambda: sally_here.get(central_new["number"]), what="the centre's order reaches the branch")
    got = eventually(lambda: (d := central_admin.get(twice["_id"]))["notes"] == "second" and d)
    assert [h.get("changes") for h in got["history"][-2:]] == [["notes"], ["notes"]]

    # Both orders edited on both sides are conflicts now.
    for o in (same, different):
        eventually(lambda o=o: central_admin.get(o["_id"], conflicts=True).get("_conflicts"),
                   what=f"{o['number']} conflicted at the centre")
    rounds = agent.run_once()
    assert different["_id"] in rounds["merged"]
    assert same["_id"] in rounds["person"] and "notes" in rounds["person"][same["_id"]]
    merged = central_admin.get(different["_id"], conflicts=True)
    assert not merged.get("_conflicts")
    assert merged["status"] == "approved" and merged["priority"] == 1
    assert merged["history"][-1]["by"] == "oms-agent" and merged["history"][-1]["changes"] == ["priority"]

    # The same-field conflict shows in the Conflicts view and on the order page.
    rweb.login("mia")
    page = rweb.get("/views/conflicts").get_data(as_text=True)
    assert same["number"] in page and different["number"] not in page
    assert "competing versions" in rweb.get(f"/orders/{same['number']}").get_data(as_text=True)
    side = rweb.get(f"/replication/conflicts/{same['number']}").get_data(as_text=True)
    assert "from the centre" in side and "from the branch" in side

    # A person resolves it: the branch's notes win; nothing is lost (the centre's value is kept in history).
    v = conflicts.compare(central_admin, same["_id"])
    branch_rev = next(leaf["_rev"] for leaf in v.leaves if leaf["notes"] == "from the branch")
    resp = rweb.post(f"/replication/conflicts/{same['number']}",
                     {"revs": v.revs, "field:notes": branch_rev},
                     csrf_from=f"/replication/conflicts/{same['number']}")
    assert resp.status_code == 303, resp.get_data(as_text=True)
    done = central_admin.get(same["_id"], conflicts=True)
    assert not done.get("_conflicts") and done["notes"] == "from the branch"
    assert done["history"][-1]["by"] == "mia"
    assert {"notes": "from the centre"} in [m["left"] for m in done["history"][-1]["merged"]]
    assert same["number"] not in rweb.get("/views/conflicts").get_data(as_text=True)

    # Both sides end equal: same winning revision, no conflicts left at the branch either.
    bdb = branch["server"].admin("orders")
    for o in (same, different, twice):
        eventually(lambda o=o: bdb.get(o["_id"], conflicts=True)["_rev"] == central_admin.get(o["_id"])["_rev"]
                   and not bdb.get(o["_id"], conflicts=True).get("_conflicts"),
                   what=f"{o['number']} equal on both sides")


def test_the_centre_reports_each_sites_replications(branch, rserver, rsettings):
    def settled():
        rows = [r for r in status.site_states(rserver, rsettings) if r.name == "branch1"]
        return all(r.state == "running" and r.checkpoint for r in rows) and rows
    rows = eventually(settled, what="both site replications report a checkpoint")
    assert {r.direction for r in rows} == {"push", "pull"}
    assert next(r for r in rows if r.direction == "push").pending is not None
