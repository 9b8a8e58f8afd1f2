"""Importing a Notes order database exported as DXL (tests/samples/notes_orders.dxl, written by hand
from the DXL documentation): customers, orders with their Notes history, comment responses;
Readers/Authors items kept as our readers/authors; what did not map is reported."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from oms.identity.directory import Directory
from oms.interchange import dxl
from oms.interchange.importing import import_bytes
from oms.interchange.pipeline import ImportContext
from oms.interchange.records import ImportRefused
from oms.store.numbers import NumberAllocator
from tests.fulfilment_fixtures import agent, fulfil, new_customer, new_sku  # noqa: F401

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "notes_orders.dxl"


@pytest.fixture(scope="module")
def directory(settings):
    return Directory(settings.ldap_url, settings.ldap_base_dn, settings.ldap_bind_dn, settings.ldap_bind_password)


@pytest.fixture(scope="module")
def imported(person, seeded, directory):
    access, db = person("oms-agent", groups=())
    ctx = ImportContext(db=db, access=access, numbers=NumberAllocator(), directory=directory)
    return ctx, import_bytes(ctx, SAMPLE.read_bytes(), "dxl", filename=SAMPLE.name)


def by_ref(admin_db, ref):
    docs = admin_db.find({"type": "order", "external_ref": ref}, limit=5)["docs"]
    assert len(docs) == 1, docs
    return docs[0]


def test_notes_datetimes_become_utc(imported):
    assert dxl.parse_datetime("20190402T101500,00+02") == "2019-04-02T08:15:00Z"
    assert dxl.parse_datetime("20010522T103636,81-04") == "2001-05-22T14:36:36Z"
    assert dxl.parse_datetime("20190415") == "2019-04-15"
    assert dxl.parse_datetime("not a date") is None


def test_the_sample_brings_in_customers_orders_and_comments_and_reports_the_rest(imported):
    _, report = imported
    by_kind = report.by_kind
    assert by_kind["customers"]["created"] == 2
    assert by_kind["orders"]["created"] == 3 and by_kind["orders"]["failed"] == 1
    assert by_kind["comments"]["created"] == 1
    [problem] = report.problems
    assert "status 'Awaiting Pricing' has no counterpart" in problem.reason and problem.line > 1
    unmapped = {(u["where"], u["what"]) for u in report.unmapped}
    assert ("Order item ShipVia", "not mapped (1 document)") in unmapped
    assert by_kind["products"]["created"] + by_kind["products"].get("unchanged", 0) == 1
    assert ("Product item Shelf", "not mapped (1 document)") in unmapped
    assert any(w == "ACL" and "[OrderAdmin]" in what for w, what in unmapped)
    assert any("server group LocalDomainServers dropped" in what for _, what in unmapped)
    assert any("name CN=Otto Outsider/O=Elsewhere is not in our directory" in what for _, what in unmapped)
    assert report.report_id and report.report_id.startswith("importrun:")


def test_an_order_keeps_its_notes_history_before_one_import_entry(imported, admin_db):
    order = by_ref(admin_db, "NW-2019-0042")
    assert order["status"] == "approved" and order["priority"] == 2
    assert order["customer"] == {"id": "customer:N0100", "name": "Northwind Traders"}
    assert [(l["sku"], l["qty"], l["unit_price_cents"]) for l in order["lines"]] == [("WID-100", 40, 450), ("GAD-310", 2, 3990)]
    assert order["totals"]["net_cents"] == 40 * 450 + 2 * 3990 and order["promised_date"] == "2019-04-15"
    history = order["history"]
    assert [(h["by"], h["action"], h.get("from"), h["to"]) for h in history[:3]] == [
        ("sally", "create", None, "draft"), ("sally", "submit", "draft", "submitted"),
        ("carl", "approve", "submitted", "approved")]
    assert all(h["legacy"] for h in history[:3]) and history[2]["reason"] == "Limit checked by phone"
    assert history[0]["at"] == "2019-04-02T08:15:00Z"
    assert history[-1]["action"] == "import" and history[-1]["by"] == "oms-agent" and "legacy" not in history[-1]
    assert order["created_by"] == "sally" and order["created_at"] == "2019-04-02T08:15:00Z"
    assert order["imported"]["ref"] == "A1B2C3D4E5F60718293A4B5C6D7E8F90"


def test_readers_and_authors_items_are_preserved_as_our_fields(imported, admin_db):
    open_order = by_ref(admin_db, "NW-2019-0042")
    assert open_order["authors"] == ["sally", "[Sales]"] and "readers" not in open_order
    held = by_ref(admin_db, "NW-2019-0057")
    # mapped names and roles kept; the server group dropped; an unknown person kept as written
    assert held["readers"] == ["mia", "[Credit]", "Otto Outsider/Elsewhere"]
    assert held["authors"] == ["sally"] and held["status"] == "credit_hold"


def test_a_restricted_imported_order_stays_hidden_from_those_not_named(imported, admin_db, app):
    held = by_ref(admin_db, "NW-2019-0057")
    c = app.test_client()

    def get(name):
        auth = {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}
        return c.get(f"/api/v1/orders/{held['number']}", headers=auth).status_code
    assert get("mia") == 200 and get("carl") == 200 and get("sally") == 200   # sally: in Authors
    assert get("wanda") == 404 and get("rita") == 404


def test_the_imported_order_moves_on_through_the_ordinary_workflow(imported, admin_db, service):
    order = by_ref(admin_db, "NW-2019-0042")
    moved = service("wanda").act(order["number"], "allocate")
    assert moved["status"] == "allocated" and moved["history"][-1]["by"] == "wanda"


def test_cancelled_orders_keep_their_reason_and_comments_their_notes_author(imported, admin_db):
    cancelled = by_ref(admin_db, "NW-2019-0031")
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "Customer ordered twice"
    comment = admin_db.get("comment:notes-E1E1E1E1E1E1E1E1E1E1E1E1E1E1E1E1")
    assert comment["parent"] == by_ref(admin_db, "NW-2019-0042")["_id"]
    assert comment["legacy_by"] == "carl" and comment["text"].startswith("Customer asked to split")
    customer = admin_db.get("customer:N0100")
    assert customer["credit_limit_cents"] == 2500000 and customer["open_balance_cents"] == 125050
    assert customer["tier"] == "gold" and customer["contacts"][1] == {"name": "Robert King", "email": "robert@northwind.example"}


def test_importing_the_same_export_again_adds_nothing(imported, directory):
    ctx, _ = imported
    again = import_bytes(ctx, SAMPLE.read_bytes(), "dxl")
    assert again.counts["created"] == 0
    assert again.by_kind["orders"]["unchanged"] == 3 and again.by_kind["comments"]["unchanged"] == 1


def test_only_a_manager_or_the_system_identity_may_import_orders_with_history(person, seeded, directory):
    access, db = person("carl")
    report = import_bytes(ImportContext(db=db, access=access, numbers=NumberAllocator(), directory=directory),
                          SAMPLE.read_bytes().replace(b"A1B2C3D4", b"99999999"), "dxl")
    refused = [p.reason for p in report.problems if p.kind == "orders"]
    assert any("Only a Manager or oms-agent may import orders with their history" in r for r in refused)


def test_a_dxl_file_that_declares_entities_is_refused_and_nothing_written(person, admin_db):
    access, db = person("oms-agent", groups=())
    bomb = b"""<?xml version='1.0'?><!DOCTYPE database [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>
<database title='x'><document form='Customer'><item name='CustomerID'><text>&b;</text></item></document></database>"""
    before = admin_db.info()["doc_count"]
    with pytest.raises(ImportRefused, match="declares an entity"):
        import_bytes(ImportContext(db=db, access=access, numbers=NumberAllocator()), bomb, "dxl")
    assert admin_db.info()["doc_count"] == before


def test_the_upload_page_takes_a_dxl_export_and_lists_what_did_not_map(app, seeded):
    import io

    from tests.conftest import WebClient
    web = WebClient(app)
    web.login("mia")
    data = SAMPLE.read_bytes().replace(b"A1B2C3D4E5F6", b"0123456789AB").replace(b"B7C8D9E0F1A2", b"BA9876543210") \
        .replace(b"C0FFEE00C0FFEE00", b"C0FFEE11C0FFEE11")
    r = web.post("/transfer/import", {"file": (io.BytesIO(data), "orders.dxl")}, csrf_from="/transfer")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "What did not map" in html and "ShipVia" in html
    assert "created" in html and "Otto Outsider" in html
    assert "Awaiting Pricing" in html


def test_orders_export_as_dxl_and_import_back_with_lines_history_and_invoices(person, fulfil_for_dxl, directory, admin_db):
    """A round trip: our DXL export, read by our own DXL import, brings the same orders back (as
    imported copies with their Notes history), and a second import adds nothing."""
    from oms.interchange import dxl_export, exporting
    from views import catalog

    number, inv = fulfil_for_dxl
    access, db = person("mia")
    stream = exporting.export(db, access, catalog.get("all_orders"), "dxl", numbers=[number])
    text = "".join(stream.chunks)
    assert stream.filename.endswith(".dxl") and "<document form='Order'>" in text and "<document form='Invoice'>" in text
    _, notes, _ = dxl.read_notes(text.encode())
    order_note = next(n for n in notes if n.form == "Order")
    assert order_note.unid == dxl_export.unid(f"order:{number}")
    assert order_note.items["OrderNumber"].values == [number]
    assert next(n for n in notes if n.form == "Invoice").items["InvoiceNumber"].values == [inv]

    agent_access, agent_db = person("oms-agent", groups=())
    ctx = ImportContext(db=agent_db, access=agent_access, numbers=NumberAllocator(), directory=directory)
    report = import_bytes(ctx, text.encode(), "dxl")
    assert report.by_kind["orders"]["created"] == 1, report.as_dict()
    assert {"where": "form Invoice", "what": "1 document(s) not imported"} in report.unmapped   # issued, never imported
    copy = by_ref(admin_db, number)
    original = admin_db.get(f"order:{number}")
    assert copy["number"] != number and copy["imported"]["legacy_number"] == number
    assert [(l["sku"], l["qty"], l["unit_price_cents"]) for l in copy["lines"]] == \
        [(l["sku"], l["qty"], l["unit_price_cents"]) for l in original["lines"]]
    assert copy["status"] == original["status"] == "invoiced" and copy["customer_po"] == "PO-DXL"
    legacy = [h["action"] for h in copy["history"] if h.get("legacy")]
    assert legacy == [h["action"] for h in original["history"]]
    assert import_bytes(ctx, text.encode(), "dxl").by_kind["orders"]["unchanged"] == 1


@pytest.fixture(scope="module")
def fulfil_for_dxl(fulfil, new_customer, new_sku):
    sku = new_sku(5)
    cid = new_customer("gold")
    order = fulfil("sally").create({"customer": cid, "status": "submitted", "customer_po": "PO-DXL",
                                    "lines": [{"sku": sku, "qty": 2, "unit_price": "5.00"}]})
    fulfil("wanda").act(order["number"], "pick")
    fulfil("sam").act(order["number"], "ship")
    [inv], _ = fulfil("bill").billing().issue(order["number"])
    return order["number"], inv["number"]
