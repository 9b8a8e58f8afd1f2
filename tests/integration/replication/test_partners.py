"""Partners on real servers: each partner's database holds only what names it, its people reach
only their own database, orders placed there reach the centre and their status flows back, and
a change the centre refuses is recorded and shown, never silently lost."""
import uuid
from urllib.parse import quote

import pytest

from oms.store.couch import Forbidden, NotFound, Unauthorized
from replication.partners import database_name
from tests.viewdata import repriced

from .conftest import eventually


def ids_in(server, db_name, prefix=""):
    rows = server.admin(db_name).all_docs(start_key=prefix, end_key=prefix + "\ufff0")["rows"]
    return {r["id"] for r in rows}


def test_each_partner_database_holds_only_what_names_that_partner(rserver, rsettings, central_admin, partner_service):
    alice, gus = partner_service("alice@acme"), partner_service("gus@globex")
    a = alice.place({"customer": "ACME-01", "lines": [{"sku": "WID-100", "qty": 2, "unit_price": "4.50"}]})
    g = gus.place({"customer": "GLOBEX-01", "lines": [{"sku": "GAD-310", "qty": 1, "unit_price": "39.90"}]})
    eventually(lambda: central_admin.get_or_none(a["_id"]) and central_admin.get_or_none(g["_id"]),
               what="both orders reach the centre")
    acme_db, globex_db = database_name("acme", rsettings.namespace), database_name("globex", rsettings.namespace)
    acme, globex = ids_in(rserver, acme_db), ids_in(rserver, globex_db)
    assert a["_id"] in acme and g["_id"] not in acme
    assert g["_id"] in globex and a["_id"] not in globex
    for doc_id in acme - {"counter:order"}:
        if doc_id.startswith("_"):
            continue
        assert rserver.admin(acme_db).get(doc_id).get("partner") == "acme", doc_id
    # Staff orders (no partner), the ACL, the counter and the central design never leave the centre.
    staff_orders = {i for i in ids_in(rserver, central_admin.name, "order:SO-0")}
    assert staff_orders and not staff_orders & acme
    assert "acl" not in acme and "_design/oms" not in acme
    assert "customer:GLOBEX-01" not in acme and "customer:ACME-01" in acme


def test_partner_people_reach_only_their_own_database(rserver, rsettings):
    ns = rsettings.namespace
    alice_acme = rserver.as_person(database_name("acme", ns), ns.user("alice@acme"), "demo")
    assert alice_acme.info()["db_name"] == database_name("acme", ns)
    for db_name in (database_name("globex", ns), rsettings.db_name):
        with pytest.raises((Forbidden, Unauthorized)):
            rserver.as_person(db_name, ns.user("alice@acme"), "demo").all_docs(limit=1)
    with pytest.raises((Forbidden, Unauthorized)):
        rserver.as_person(rsettings.db_name, ns.user("gus@globex"), "demo").get("acl")


def test_a_partner_person_cannot_raise_their_own_roles(rserver, rsettings):
    # _users is the server admin's alone, as CouchDB 3 makes it: she cannot read her own
    # document, and with it in hand she still cannot give herself roles.
    ns = rsettings.namespace
    users = rserver.as_person("_users", ns.user("alice@acme"), "demo")
    with pytest.raises((Forbidden, Unauthorized)):
        users.get(ns.user_id("alice@acme"))
    me = rserver.admin("_users").get(ns.user_id("alice@acme"))
    for roles in (["partner:globex", "partner-level:author"], ["partner:acme", "level:manager"]):
        with pytest.raises((Forbidden, Unauthorized)):
            users.save(dict(me, roles=ns.roles(roles)))
    assert rserver.admin("_users").get(ns.user_id("alice@acme"))["roles"] == ns.roles(["partner:acme", "partner-level:author"])


def test_an_order_placed_at_a_partner_reaches_the_centre_and_its_status_flows_back(
        central_admin, partner_service, staff):
    alice = partner_service("alice@acme")
    placed = alice.place({"customer": "ACME-01", "notes": "rush please",
                          "lines": [{"sku": "WID-200", "qty": 5, "unit_price": "12.00"}]})
    assert placed["number"].startswith("SO-ACME-") and placed["status"] == "submitted"
    central = eventually(lambda: central_admin.get_or_none(placed["_id"]), what="the order reaches the centre")
    assert central["created_by"] == "alice@acme" and central["partner"] == "acme"
    staff("carl").act(placed["number"], "approve")
    back = eventually(lambda: (d := alice.order(placed["number"]))["status"] == "approved" and d,
                      what="the approval flows back to the partner")
    assert [h["action"] for h in back["history"]] == ["create", "approve"]
    assert back["history"][-1]["by"] == "carl"


def test_a_forbidden_partner_change_is_refused_centrally_recorded_and_set_back(
        rserver, central_admin, partner_service, partners):
    alice = partner_service("alice@acme")
    placed = alice.place({"customer": "ACME-01", "lines": [{"sku": "GIZ-400", "qty": 10, "unit_price": "7.25"}]})
    eventually(lambda: central_admin.get_or_none(placed["_id"]), what="the order reaches the centre")
    # alice edits the price in her copy, straight through CouchDB (her copy accepts her edits).
    mine = repriced(alice.db.get(placed["_id"]), 0, 1)
    mine["updated_by"] = "alice@acme"
    mine["history"].append({"at": "2026-11-25T12:00:00Z", "by": "alice@acme", "action": "edit",
                            "from": "submitted", "to": "submitted", "changes": ["lines", "totals"]})
    refused_rev = alice.db.save(mine)["_rev"]
    notes = eventually(lambda: partners.audit("acme") or [n for n in alice.rejections() if n["rev"] == refused_rev],
                       what="the refusal is recorded")
    note = next(n for n in notes if n["rev"] == refused_rev)
    assert "may not change lines of an order that is Submitted" in note["reason"]
    assert note["changes"]["lines"]["yours"][0]["unit_price_cents"] == 1
    assert note["changes"]["lines"]["centre"][0]["unit_price_cents"] == 725
    # The centre never took it; the partner's copy is set back to what the centre holds.
    assert central_admin.get(placed["_id"])["totals"]["net_cents"] == 7250
    back = eventually(lambda: (d := alice.order(placed["number"]))["totals"]["net_cents"] == 7250 and d)
    assert not back.get("_conflicts")
    assert any(n["doc_id"] == placed["_id"] for n in alice.responses(placed["_id"])["rejection"])
    # And the set-back copy travels to the centre as a write that changes nothing.
    eventually(lambda: central_admin.get(placed["_id"])["_rev"] == alice.db.get(placed["_id"])["_rev"],
               what="both sides agree again")
    assert central_admin.get(placed["_id"])["lines"][0]["unit_price_cents"] == 725


def test_an_allowed_partner_edit_and_a_comment_reach_the_centre(central_admin, partner_service):
    alice = partner_service("alice@acme")
    placed = alice.place({"customer": "ACME-01", "lines": [{"sku": "BOLT-M8", "qty": 100, "unit_price": "0.15"}]})
    alice.edit(placed["number"], {"notes": "deliver to gate 4", "promised_date": "2026-12-20"})
    comment = alice.comment(placed["number"], "Can you ship before the 20th?")
    eventually(lambda: central_admin.get(placed["_id"]).get("notes") == "deliver to gate 4", what="the edit arrives")
    assert eventually(lambda: central_admin.get_or_none(comment["_id"]))["by"] == "alice@acme"


def test_the_partner_copy_refuses_another_partners_documents_and_deletions(rserver, rsettings, partner_service):
    alice = partner_service("alice@acme")
    with pytest.raises(Forbidden, match='carries partner: "acme"'):
        alice.db.save({"_id": "comment:x1", "type": "comment", "parent": "order:SO-000001", "text": "hi",
                       "by": "alice@acme", "at": "2026-11-25T12:00:00Z", "partner": "globex"})
    mine = alice.orders()[0][0]
    doc = alice.db.get(mine["id"])
    with pytest.raises(Forbidden, match="Nothing is deleted here"):
        alice.db.delete(doc["_id"], doc["_rev"])
    with pytest.raises((Forbidden, Unauthorized)):
        rserver.as_person(database_name("globex", rsettings.namespace), rsettings.namespace.user("alice@acme"), "demo").save(
            {"_id": "comment:x2", "type": "comment", "parent": "order:SO-000001", "text": "hi",
             "by": "alice@acme", "at": "2026-11-25T12:00:00Z", "partner": "globex"})


def test_a_refused_change_made_while_the_centre_moved_on_ends_with_the_centres_version_everywhere(
        central_admin, partner_service, staff, agent):
    alice = partner_service("alice@acme")
    placed = alice.place({"customer": "ACME-01", "lines": [{"sku": "WID-100", "qty": 6, "unit_price": "4.50"}]})
    eventually(lambda: central_admin.get_or_none(placed["_id"]), what="the order reaches the centre")
    base = alice.db.get(placed["_id"])
    # At the same moment: the centre approves, and alice (from the same base) halves the price.
    staff("carl").act(placed["number"], "approve")
    mine = {k: v for k, v in base.items() if k != "_rev"}
    mine["lines"] = [dict(base["lines"][0], unit_price_cents=225, amount_cents=1350)]
    mine["totals"] = {"net_cents": 1350, "qty": 6}
    mine["updated_by"] = "alice@acme"
    mine["history"] = base["history"] + [{"at": "2026-11-25T12:00:00Z", "by": "alice@acme", "action": "edit",
                                          "from": "submitted", "to": "submitted", "changes": ["lines"]}]
    mine["_rev"] = "2-" + "f" * 32
    mine["_revisions"] = {"start": 2, "ids": ["f" * 32, base["_rev"].split("-")[1]]}
    alice.db.bulk([mine], new_edits=False)   # her edit, made from the version she had
    # The agent records the refusal, sets her copy back, and drops the version that changes nothing.
    eventually(lambda: agent.run_once() and [n for n in alice.rejections() if n["rev"] == mine["_rev"]],
               what="the refusal is recorded")

    def settled():
        agent.run_once()
        c = central_admin.get(placed["_id"], conflicts=True)
        p = alice.db.get(placed["_id"], conflicts=True)
        return not c.get("_conflicts") and not p.get("_conflicts") and c["_rev"] == p["_rev"] and c
    final = eventually(settled, what="one version, the same at the centre and in the partner's copy")
    assert final["status"] == "approved" and final["totals"]["net_cents"] == placed["totals"]["net_cents"]


def test_a_partner_run_server_works_by_plain_couchdb_replication(tmp_path, rserver, rsettings, central_admin,
                                                                  demo_partners):
    """The partner's own PouchDB Server pulls its copy and pushes an order placed there, with
    nothing but `POST /_replicate` and the partner person's account."""
    from oms.devstack.embedded import EmbeddedCouch
    from oms.store.couch import CouchServer
    with EmbeddedCouch(tmp_path / "acme-own", "acme_admin", "acme-secret") as own:
        theirs = CouchServer(own.url, "acme_admin", "acme-secret")
        theirs.admin("acme").create()
        ns = rsettings.namespace
        copy_url = (rserver.url.replace("http://", f"http://{quote(ns.user('alice@acme'), safe='')}:demo@")
                    + "/" + database_name("acme", ns))
        theirs.request("POST", "/_replicate", json={"source": copy_url, "target": "acme"})
        local = theirs.admin("acme")
        held = {r["id"] for r in local.all_docs()["rows"] if not r["id"].startswith("_")}
        assert held and all(local.get(i).get("partner") == "acme" for i in held if i != "counter:order")
        template = local.get(next(i for i in sorted(held) if i.startswith("order:")))
        order = {k: v for k, v in template.items() if k not in ("_rev", "notes")}
        number = f"SO-ACME-9{uuid.uuid4().int % 10**8:08d}"   # a run of its own on a shared server
        order.update(_id=f"order:{number}", number=number, status="submitted",
                     created_by="alice@acme", updated_by="alice@acme", version=1,
                     history=[{"at": "2026-11-25T09:00:00Z", "by": "alice@acme", "action": "create",
                               "from": None, "to": "submitted"}])
        for key in ("allocations", "backorders", "credit", "promised_date"):
            order.pop(key, None)
        local.save(order)
        result = theirs.request("POST", "/_replicate", json={"source": "acme", "target": copy_url})
        assert result["doc_write_failures"] == 0
        arrived = eventually(lambda: central_admin.get_or_none(order["_id"]), what="it reaches the centre")
        assert arrived["created_by"] == "alice@acme" and arrived["status"] == "submitted"


def test_a_partners_numbers_have_no_gaps_however_many_processes_number_from_it(rserver, rsettings, demo_partners,
                                                                              central_admin):
    from oms.catalog import products
    from replication.partners import PartnerPerson, PartnerService, partner_numbers
    db = rserver.as_person(database_name("acme", rsettings.namespace), rsettings.namespace.user("alice@acme"), "demo")
    person = PartnerPerson("alice@acme", "acme", "author")
    processes = [PartnerService(db, person, partner_numbers("acme"), lambda skus: products.book(central_admin, skus))
                 for _ in range(2)]   # two app processes
    body = {"customer": "ACME-01", "lines": [{"sku": "WID-100", "qty": 1, "unit_price": "4.50"}]}
    numbers = [int(processes[i % 2].place(dict(body))["number"].rsplit("-", 1)[1]) for i in range(4)]
    assert numbers == list(range(numbers[0], numbers[0] + 4))
