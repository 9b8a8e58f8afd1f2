"""Export a view or a selection as CSV, JSON or XML (streamed, Readers fields respected), the
import/export page, and `oms import` / `oms export` on the command line."""
from __future__ import annotations

import csv
import io
import json
import types
import uuid

import pytest
from click.testing import CliRunner

from oms.interchange import exporting, xmlformat
from oms.interchange.formats import read_records
from views import catalog


@pytest.fixture(scope="module")
def restricted(service, seeded):
    """An order only mia may read."""
    return service("mia").create({"customer": "C0004", "readers": ["mia"], "authors": ["mia"],
                                  "lines": [{"sku": "BOLT-M8", "qty": 9, "unit_price": "0.15"}]})


def text_of(stream) -> str:
    return "".join(stream.chunks)


def test_exports_are_generators_of_chunks_not_whole_strings(person, seeded):
    access, db = person("rita")
    stream = exporting.export(db, access, catalog.get("all_orders"), "csv")
    assert isinstance(stream.chunks, types.GeneratorType)
    assert stream.mimetype.startswith("text/csv") and stream.filename == "all_orders.csv"


def test_a_view_exports_as_csv_with_its_columns_and_only_what_the_person_may_read(person, restricted):
    for name, sees in (("rita", False), ("mia", True)):
        access, db = person(name)
        rows = list(csv.reader(io.StringIO(text_of(exporting.export(db, access, catalog.get("all_orders"), "csv",
                                                                    page_size=4)))))
        assert rows[0] == [c["title"] for c in catalog.get("all_orders").columns]
        numbers = [r[0] for r in rows[1:]]
        assert len(numbers) == len(set(numbers)) and numbers == sorted(numbers)   # paged by key, no repeats
        assert (restricted["number"] in numbers) is sees
        assert all(r[4].replace(".", "").isdigit() for r in rows[1:])           # money as plain amounts


def test_the_same_view_as_json_and_xml_holds_the_same_rows(person, seeded):
    access, db = person("rita")
    vd = catalog.get("all_orders")
    as_json = json.loads(text_of(exporting.export(db, access, vd, "json", page_size=5)))
    xml = text_of(exporting.export(db, access, vd, "xml", page_size=5))
    root = xmlformat.parse(xml.encode())
    rows = root.find("rows").findall("row")
    assert [r["id"] for r in as_json["rows"]] == [r.attrs["id"] for r in rows]
    first = {c.attrs["name"]: c.text for c in rows[0].findall("cell")}
    assert first["number"] == as_json["rows"][0]["number"]


def test_a_selection_of_whole_orders_exports_in_the_import_format(person, service, seeded):
    svc = service("sally")
    a = svc.create({"customer": "C0001", "notes": "a & <b>", "lines": [{"sku": "WID-100", "qty": 2, "unit_price": "4.50"},
                                                                       {"sku": "GAD-310", "qty": 1, "unit_price": "39.90"}]})
    b = svc.create({"customer": "C0002", "external_ref": f"ERP-{uuid.uuid4().hex[:6]}",
                    "lines": [{"sku": "SPR-010", "qty": 10, "unit_price": "0.80"}]})
    access, db = person("sally")
    vd = catalog.get("all_orders")
    xml = text_of(exporting.export(db, access, vd, "xml", "orders", [a["number"], b["number"], "SO-999999"]))
    records = read_records(xml.encode(), "xml")
    assert [r.data["external_ref"] for r in records] == [a["number"], b["external_ref"]]
    assert records[0].data["notes"] == "a & <b>"
    assert records[0].data["lines"] == [{"sku": "WID-100", "qty": "2", "unit_price": "4.50", "description": "Widget, small"},
                                        {"sku": "GAD-310", "qty": "1", "unit_price": "39.90", "description": "Gadget"}]
    csv_text = text_of(exporting.export(db, access, vd, "csv", "orders", [a["number"]]))
    csv_records = read_records(csv_text.encode(), "csv")
    assert csv_records[0].data["lines"][1]["sku"] == "GAD-310"
    whole = json.loads(text_of(exporting.export(db, access, vd, "json", "orders", [b["number"]])))
    assert whole["orders"][0]["_id"] == f"order:{b['number']}" and whole["orders"][0]["history"]


def test_a_selection_never_leaks_an_order_the_person_may_not_read(person, restricted):
    access, db = person("sally")
    out = text_of(exporting.export(db, access, catalog.get("all_orders"), "json", "orders", [restricted["number"]]))
    assert json.loads(out) == {"orders": []}


def test_bad_export_requests_are_refused_with_the_reason(person):
    from oms.core.errors import InvalidInput
    access, db = person("rita")
    with pytest.raises(InvalidInput, match="format must be one of csv, json, xml"):
        exporting.export(db, access, catalog.get("all_orders"), "pdf")
    with pytest.raises(InvalidInput, match="shape must be rows or orders"):
        exporting.export(db, access, catalog.get("all_orders"), "csv", "cubes")


# ------------------------------------------------------------------ the page
def test_the_upload_page_imports_a_file_and_shows_what_went_in_and_what_did_not(web):
    web.login("sally")
    assert web.get("/transfer").status_code == 200
    t = uuid.uuid4().hex[:6]
    data = f"external_ref,customer,sku,qty,unit_price\nWEB-{t},C0001,WID-100,1,4.50\nWEB-{t}-2,C0001,WID-100,0,4.50\n"
    r = web.post("/transfer/import", {"file": (io.BytesIO(data.encode()), "orders.csv"), "kind": ""},
                 csrf_from="/transfer")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "1 created" in html and "1 refused" in html
    assert "Line 1: quantity must be a whole number from 1" in html


def test_the_upload_page_refuses_hostile_xml_with_a_clear_error(web):
    web.login("sally")
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><orderdesk/>'
    r = web.post("/transfer/import", {"file": (io.BytesIO(bomb), "evil.xml")}, csrf_from="/transfer")
    assert r.status_code == 400 and "document type declaration" in r.get_data(as_text=True)
    r = web.post("/transfer/import", {"file": (io.BytesIO(b"x"), "notes.txt")}, csrf_from="/transfer")
    assert r.status_code == 400 and "cannot tell the format" in r.get_data(as_text=True)


def test_the_page_streams_a_download_and_readers_cannot_import(web):
    web.login("rita")
    r = web.get("/transfer/export?view=all_orders&format=xml")
    assert r.status_code == 200 and r.mimetype == "application/xml"
    assert "attachment" in r.headers["Content-Disposition"] and r.get_data(as_text=True).startswith("<?xml")
    r = web.post("/transfer/import", {"file": (io.BytesIO(b"a,b\n"), "x.csv")}, csrf_from="/transfer")
    assert r.status_code == 403


# ------------------------------------------------------------------ the command line
def test_oms_import_shows_progress_and_a_summary_and_oms_export_writes_a_file(settings, tmp_path, seeded):
    from oms.cli.main import main
    t = uuid.uuid4().hex[:6]
    path = tmp_path / "orders.csv"
    path.write_text(f"external_ref,customer,sku,qty,unit_price\nCLI-{t},C0001,WID-100,1,4.50\nCLI-{t}-2,C0404,X,1,1\n")
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(path)], env=settings.to_env())
    assert result.exit_code == 1   # one bad row
    assert "importing orders.csv" in result.stderr
    assert "orders.csv as oms-agent: 1 created, 0 updated, 0 unchanged, 1 refused" in result.stdout
    assert "line 3 (CLI-" in result.stdout and "unknown customer 'C0404'" in result.stdout
    again = runner.invoke(main, ["import", str(path), "--json"], env=settings.to_env())
    assert json.loads(again.stdout)["counts"]["unchanged"] == 1
    out = tmp_path / "all.json"
    exported = runner.invoke(main, ["export", "all_orders", "--format", "json", "--out", str(out), "--as", "rita"],
                             env=settings.to_env())
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["view"] == "all_orders"
