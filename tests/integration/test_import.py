"""Importing orders, customers and stock from CSV, JSON and XML on the real server: good rows go
in, each bad row is reported with its line and reason, a re-run creates no duplicates, and
hostile XML is refused as a whole with nothing written."""
from __future__ import annotations

import json
import threading
import uuid

import pytest

from oms.interchange import formats, pipeline
from oms.interchange.importing import import_bytes
from oms.interchange.pipeline import ImportContext
from oms.interchange.records import ImportRefused
from oms.store.numbers import NumberAllocator


@pytest.fixture
def ctx(person, seeded):
    def make(name="oms-agent"):
        if name == "oms-agent":
            access, db = person("oms-agent", groups=())
        else:
            access, db = person(name)
        return ImportContext(db=db, access=access, numbers=NumberAllocator())
    return make


@pytest.fixture(scope="module")
def volume(server, settings, person):
    """A database of its own for the tests that import thousands of orders, so the shared one
    keeps the small counts other tests page and chart. -> (ctx(name), admin Database)."""
    from couch_design.deploy import deploy
    from oms.identity import people
    name = f"{settings.db_name}_import_volume"
    admin = server.admin(name)
    deploy(admin, progress=lambda *_: None, namespace=settings.namespace)
    admin.bulk([{"_id": f"customer:{c}", "type": "customer", "name": f"Customer {c}", "currency": "EUR"}
                for c in ("C0001", "C0004")] + [product_doc(s) for s in ("SPR-010", "WID-100", "GAD-310")])

    def make(who="oms-agent"):
        access, _ = person(who, groups=()) if who == "oms-agent" else person(who)
        db = people.open_as(server, settings.secret_key, name, access.name, settings.namespace)
        return ImportContext(db=db, access=access, numbers=NumberAllocator())
    return make, admin


from tests.viewdata import product_doc  # noqa: E402


def tag() -> str:
    return uuid.uuid4().hex[:6].upper()


def orders_with_ref(admin_db, ref: str) -> list[dict]:
    res = admin_db.find({"type": "order", "external_ref": ref}, limit=10)
    return res["docs"]


def all_ids(admin_db) -> set[str]:
    return {r["id"] for r in admin_db.all_docs()["rows"]}


# ------------------------------------------------------------------ CSV
def test_a_csv_of_orders_brings_in_the_good_rows_and_reports_each_bad_row_with_its_line(ctx, admin_db):
    t = tag()
    csv_text = (
        "external_ref,customer,currency,promised_date,priority,status,notes,sku,description,qty,unit_price\n"
        f"CSV-{t}-1,C0001,EUR,2026-12-01,2,submitted,first,WID-100,Widget,3,4.50\n"
        f"CSV-{t}-1,C0001,EUR,2026-12-01,2,submitted,first,GAD-310,Gadget,1,39.90\n"
        f"CSV-{t}-2,C9999,EUR,,,,,WID-100,,1,4.50\n"                         # line 4: unknown customer
        f"CSV-{t}-3,C0002,EUR,,,,,WID-100,,two,4.50\n"                       # line 5: bad qty
        f"CSV-{t}-4,C0002,EUR,,,draft,,BOLT-M8,Bolt,100,0.15\n"
        ",C0002,EUR,,,,,WID-100,,1,4.50\n"                                   # line 7: no external_ref
    )
    report = import_bytes(ctx(), csv_text.encode(), "csv", filename="orders.csv")
    assert report.counts["created"] == 2 and report.counts["failed"] == 3
    problems = {p.line: p.reason for p in report.problems}
    assert "unknown customer 'C9999'" in problems[4]
    assert "Line 1: quantity must be a whole number" in problems[5]
    assert "external_ref is required" in problems[7]
    [first] = orders_with_ref(admin_db, f"CSV-{t}-1")
    assert [l["sku"] for l in first["lines"]] == ["WID-100", "GAD-310"]
    assert first["totals"]["net_cents"] == 3 * 450 + 3990 and first["priority"] == 2
    assert first["status"] == "submitted" and first["created_by"] == "oms-agent"
    # priced as the desk prices: Acme (gold, Hamburg) is offered 4.20 by the GOLD list, the file's
    # 4.50 stands as typed; both lines taxed at the German standard rate, shipped to its first ship-to
    assert [(l["list_price_cents"], l["price_source"], l["tax_rate_bp"]) for l in first["lines"]] == [
        (420, "pricelist:GOLD", 1900), (3690, "pricelist:GOLD", 1900)]
    assert first["ship_to"]["city"] == "Hamburg" and first["totals"]["gross_cents"] == 5340 + 257 + 758
    [bolts] = orders_with_ref(admin_db, f"CSV-{t}-4")
    assert bolts["lines"][0]["tax_rate_bp"] == 550   # bolts are spare parts (reduced) shipped to Lyon: the French reduced rate
    assert first["history"][0]["by"] == "oms-agent"   # written as the system identity, not the admin


def test_a_priority_in_digits_that_are_not_plain_ascii_is_a_reported_row_not_a_crash(ctx):
    # "\u00b2".isdigit() is true but int("\u00b2") fails: a number is ASCII digits, else a problem.
    csv_text = f"external_ref,customer,sku,qty,unit_price,priority\nSUP-{tag()},C0001,WID-100,1,4.50,\u00b2\n"
    report = import_bytes(ctx(), csv_text.encode(), "csv")
    assert report.counts["failed"] == 1 and "priority must be a whole number from 1 to 5" in report.problems[0].reason


def test_importing_the_same_csv_again_creates_no_duplicates(ctx, admin_db):
    t = tag()
    csv_text = ("external_ref,customer,sku,qty,unit_price\n"
                f"RE-{t}-1,C0003,WID-100,1,4.50\nRE-{t}-2,C0003,WID-200,2,12.00\n").encode()
    first = import_bytes(ctx(), csv_text, "csv")
    again = import_bytes(ctx(), csv_text, "csv")
    assert first.counts["created"] == 2
    assert again.counts["created"] == 0 and again.counts["unchanged"] == 2 and not again.problems
    assert len(orders_with_ref(admin_db, f"RE-{t}-1")) == 1 and len(orders_with_ref(admin_db, f"RE-{t}-2")) == 1


def test_the_same_file_imported_twice_at_once_still_creates_each_order_once(ctx, admin_db):
    t = tag()
    rows = "".join(f"PAR-{t}-{i},C0004,SPR-010,{i + 1},0.80\n" for i in range(20))
    data = ("external_ref,customer,sku,qty,unit_price\n" + rows).encode()
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(import_bytes(ctx(), data, "csv"))) for _ in range(3)]
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert sum(r.counts["created"] for r in reports) == 20
    for i in range(20):
        assert len(orders_with_ref(admin_db, f"PAR-{t}-{i}")) == 1


def test_a_changed_row_for_an_order_imported_before_is_reported_not_applied(ctx, admin_db):
    t = tag()
    import_bytes(ctx(), f"external_ref,customer,sku,qty,unit_price\nCH-{t},C0001,WID-100,1,4.50\n".encode(), "csv")
    report = import_bytes(ctx(), f"external_ref,customer,sku,qty,unit_price\nCH-{t},C0001,WID-100,9,4.50\n".encode(), "csv")
    assert report.counts["failed"] == 1 and "imported before" in report.problems[0].reason
    assert orders_with_ref(admin_db, f"CH-{t}")[0]["lines"][0]["qty"] == 1


def test_an_import_that_stopped_after_claiming_a_reference_is_finished_by_the_next_run(ctx, admin_db):
    """The claim (refclaims:..., oms/interchange/refclaims.py) is written before its order; a run that died
    between the two leaves the claim alone. The next run writes the order under the number the claim reserved."""
    t = tag()
    data = f"external_ref,customer,sku,qty,unit_price\nST-{t},C0001,WID-100,2,4.50\n".encode()
    c = ctx()
    original_bulk = c.db.bulk
    calls = []

    def stop_before_the_orders(docs, *a, **kw):
        if docs and docs[0].get("type") == "order":   # the process "dies" before writing them
            raise RuntimeError("import stopped")
        calls.append(docs)
        return original_bulk(docs, *a, **kw)

    c.db.bulk = stop_before_the_orders
    with pytest.raises(RuntimeError):
        import_bytes(c, data, "csv")
    [claims] = [d for docs in calls for d in docs if d["_id"].startswith("refclaims:")]
    reserved = claims["refs"][f"ST-{t}"]["number"]
    assert not orders_with_ref(admin_db, f"ST-{t}")
    report = import_bytes(ctx(), data, "csv")
    assert report.counts["created"] == 1
    [order] = orders_with_ref(admin_db, f"ST-{t}")
    assert order["number"] == reserved
    assert import_bytes(ctx(), data, "csv").counts["unchanged"] == 1


def claim_docs(admin_db, prefix: str) -> list[dict]:
    rows = admin_db.all_docs(start_key=f"refclaims:orders:{prefix}", end_key=f"refclaims:orders:{prefix}\ufff0",
                             include_docs=True)["rows"]
    return [r["doc"] for r in rows]


def orders_csv(refs, qty=1) -> bytes:
    return ("external_ref,customer,sku,qty,unit_price\n"
            + "".join(f"{r},C0004,SPR-010,{qty},0.80\n" for r in refs)).encode()


def test_sequential_references_share_one_claim_document_per_hundred(volume):
    ctx, admin_db = volume
    t = tag()
    refs = [f"SEQ{t}-{i:05d}" for i in range(250)]
    report = import_bytes(ctx(), orders_csv(refs), "csv")
    assert report.counts["created"] == 250
    docs = claim_docs(admin_db, f"SEQ{t}-")
    assert [d["prefix"] for d in docs] == [f"SEQ{t}-000", f"SEQ{t}-001", f"SEQ{t}-002"]
    assert sum(len(d["refs"]) for d in docs) == 250
    entry = docs[0]["refs"][f"SEQ{t}-00007"]
    assert entry["by"] == "oms-agent" and admin_db.get(f"order:{entry['number']}")["external_ref"] == f"SEQ{t}-00007"


def test_overlapping_files_imported_at_once_create_each_order_once(volume):
    ctx, admin_db = volume
    t = tag()
    refs = [f"OV{t}-{i:04d}" for i in range(600)]
    files = [orders_csv(refs[0:400]), orders_csv(refs[150:600]), orders_csv(refs[300:500] + refs[0:50])]
    reports = []
    threads = [threading.Thread(target=lambda d=d: reports.append(import_bytes(ctx(), d, "csv"))) for d in files]
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert sum(r.counts["created"] for r in reports) == 600 and not any(r.problems for r in reports), [r.problems[:3] for r in reports]
    res = admin_db.find({"type": "order", "external_ref": {"$gt": f"OV{t}-", "$lt": f"OV{t}-\ufff0"}},
                        fields=["external_ref", "number"], limit=2000)
    assert sorted(d["external_ref"] for d in res["docs"]) == refs          # each once
    claimed = {ref: e["number"] for d in claim_docs(admin_db, f"OV{t}-") for ref, e in d["refs"].items()}
    assert {d["external_ref"]: d["number"] for d in res["docs"]} == claimed   # under its claim's number


def test_a_reference_twice_in_one_file_is_one_order_and_a_changed_second_record_is_reported(ctx, admin_db):
    t = tag()
    text = ("external_ref,customer,sku,qty,unit_price\n"
            f"TW-{t}-1,C0001,WID-100,1,4.50\nTW-{t}-2,C0001,WID-100,1,4.50\n")
    # the JSON reader keeps each record apart (CSV folds rows of one reference into one order)
    data = (f'[{{"external_ref": "TW-{t}-1", "customer": "C0001", "lines": [{{"sku": "WID-100", "qty": 1, "unit_price": 1}}]}},'
            f' {{"external_ref": "TW-{t}-1", "customer": "C0001", "lines": [{{"sku": "WID-100", "qty": 1, "unit_price": 1}}]}},'
            f' {{"external_ref": "TW-{t}-1", "customer": "C0001", "lines": [{{"sku": "WID-100", "qty": 2, "unit_price": 1}}]}}]')
    report = import_bytes(ctx(), data.encode(), "json", "orders")
    assert (report.counts["created"], report.counts["unchanged"], report.counts["failed"]) == (1, 1, 1)
    assert report.problems[0].line == 1 and "imported before" in report.problems[0].reason
    assert len(orders_with_ref(admin_db, f"TW-{t}-1")) == 1
    assert import_bytes(ctx(), text.encode(), "csv").counts["created"] == 1   # TW-2; TW-1 is known



@pytest.mark.parametrize("stages", ["threads", "rounds"])
def test_a_reference_met_again_batches_later_is_still_one_order_and_a_change_there_is_reported(
        volume, monkeypatch, stages):
    ctx, admin_db = volume
    if stages == "rounds":
        monkeypatch.setattr(pipeline, "_stages", pipeline.serial_stages)
    t = tag()

    def record(ref, qty=1):
        return {"external_ref": ref, "customer": "C0004", "lines": [{"sku": "SPR-010", "qty": qty, "unit_price": 1}]}

    refs = [f"LATE{t}-{i:04d}" for i in range(1300)]
    # again two batches on (claimed in the same round), and again after several rounds
    records = ([record(r) for r in refs[:500]] + [record(refs[3], qty=2)] + [record(r) for r in refs[500:]]
               + [record(refs[7])])
    text = "[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]"    # record i on line i + 2
    report = import_bytes(ctx(), text.encode(), "json", "orders")
    assert report.counts["created"] == 1300 and report.counts["unchanged"] == 1
    assert [(p.line, p.ref) for p in report.problems] == [(502, refs[3])] and "imported before" in report.problems[0].reason
    assert len(orders_with_ref(admin_db, refs[3])) == 1 and len(orders_with_ref(admin_db, refs[7])) == 1
    assert orders_with_ref(admin_db, refs[3])[0]["lines"][0]["qty"] == 1


def test_claims_two_sites_added_to_one_document_offline_are_all_seen(ctx, admin_db):
    """Replication brings a branch's revision of a claim document beside ours (both grew the same
    earlier revision): CouchDB keeps one as the winner, and neither side's claims may be lost."""
    t = tag()
    first, ours, theirs, new = (f"REP{t}-{i:02d}" for i in (1, 2, 3, 4))
    import_bytes(ctx(), orders_csv([first]), "csv")
    [base] = claim_docs(admin_db, f"REP{t}-")
    import_bytes(ctx(), orders_csv([ours]), "csv")                    # ours: revision 2 on the centre
    branch = import_bytes(ctx(), orders_csv([f"REPB{t}-03"]), "csv")   # an order the branch made
    rival = {k: v for k, v in base.items() if k != "_rev"}
    rival["refs"] = dict(base["refs"], **{theirs: {"number": branch.created[0]["id"][6:], "fingerprint": "f" * 64,
                                                   "by": "oms-agent", "at": "2026-01-01T00:00:00Z"}})
    rival["_rev"] = "2-" + "f" * 32                      # sorts last: the branch's revision wins
    rival["_revisions"] = {"start": 2, "ids": ["f" * 32, base["_rev"].split("-")[1]]}
    admin_db.bulk([rival], new_edits=False)
    assert len(admin_db.get(base["_id"], conflicts=True)["_conflicts"]) == 1
    assert ours not in admin_db.get(base["_id"])["refs"]   # ours is in the losing revision
    report = import_bytes(ctx(), orders_csv([first, ours, theirs, new]), "csv")
    assert report.counts["created"] == 1 and report.created[0]["ref"] == new
    assert report.counts["unchanged"] == 2 and len(report.problems) == 1   # theirs: other content
    assert not orders_with_ref(admin_db, theirs) and len(orders_with_ref(admin_db, ours)) == 1
    assert set(admin_db.get(base["_id"])["refs"]) == {first, ours, theirs, new}   # the next write carries all


def test_an_order_a_concurrent_run_wrote_a_moment_before_ours_counts_as_unchanged(ctx, admin_db, person):
    """Two runs met one claim: the other wrote the order between our look and our create. CouchDB 3
    answers 409; PouchDB Server validates our create as an edit of that order and refuses it (403)."""
    t = tag()
    _, carl = person("carl")
    c = ctx()
    original_bulk = c.db.bulk

    def the_other_run_first(docs, *a, **kw):
        if docs and docs[0].get("type") == "order":
            carl.bulk([dict(docs[0], created_by="carl", updated_by="carl", authors=["carl"],
                            history=[dict(docs[0]["history"][0], by="carl")])])
        return original_bulk(docs, *a, **kw)

    c.db.bulk = the_other_run_first
    report = import_bytes(c, orders_csv([f"RACE{t}-1", f"RACE{t}-2"]), "csv")
    assert (report.counts["created"], report.counts["unchanged"], report.problems) == (1, 1, [])
    assert [o["created_by"] for o in orders_with_ref(admin_db, f"RACE{t}-1")] == ["carl"]


def test_an_error_while_claiming_stops_the_import_with_nothing_half_written(ctx, admin_db):
    t = tag()
    c = ctx()
    original_bulk = c.db.bulk

    def claims_fail(docs, *a, **kw):
        if docs and docs[0]["_id"].startswith("refclaims:"):
            raise RuntimeError("the claims write failed")
        return original_bulk(docs, *a, **kw)

    c.db.bulk = claims_fail
    with pytest.raises(RuntimeError, match="claims write failed"):
        import_bytes(c, orders_csv([f"ERR{t}-{i:04d}" for i in range(700)]), "csv")
    assert not claim_docs(admin_db, f"ERR{t}-") and not orders_with_ref(admin_db, f"ERR{t}-0001")


def test_an_import_batch_takes_its_order_numbers_in_one_counter_write(ctx, admin_db):
    t = tag()
    rows = "".join(f"NB-{t}-{i},C0004,SPR-010,1,1.00\n" for i in range(12))
    before = admin_db.get("counter:order")["_rev"]
    report = import_bytes(ctx(), ("external_ref,customer,sku,qty,unit_price\n" + rows).encode(), "csv")
    numbers = sorted(int(c["id"].split("-")[1]) for c in report.created)
    assert report.counts["created"] == 12 and numbers == list(range(numbers[0], numbers[0] + 12))
    assert int(admin_db.get("counter:order")["_rev"].split("-")[0]) == int(before.split("-")[0]) + 1


def test_customers_and_stock_from_csv_are_upserted_by_their_external_ids(ctx, admin_db):
    t = tag()
    customers = (f"id,name,tier,credit_limit,days_late,contact_email\nX{t}1,Xeno Ltd,gold,5000.00,3,ap@xeno.example\n"
                 f"X{t}2,,silver,100,0,\nX{t}3,Yoyo,platinum,1,0,\n").encode()
    report = import_bytes(ctx(), customers, "csv")
    assert report.counts["created"] == 1 and report.counts["failed"] == 2
    assert {p.line: p.reason for p in report.problems} == {3: "name is required (at most 200 characters)",
                                                           4: "tier must be one of gold, silver, bronze, not 'platinum'"}
    doc = admin_db.get(f"customer:X{t}1")
    assert doc["credit_limit_cents"] == 500000 and doc["open_balance_cents"] == 0 and doc["tier"] == "gold"
    assert doc["contacts"] == [{"email": "ap@xeno.example"}]
    again = import_bytes(ctx(), customers, "csv")
    assert again.counts["unchanged"] == 1 and again.counts["created"] == 0

    stock = f"sku,warehouse,on_hand\nS{t}-1,MAIN,120\nS{t}-2,MAIN,-4\nS{t}-1,EAST,7\n".encode()
    report = import_bytes(ctx(), stock, "csv")
    assert report.counts["created"] == 2 and report.problems[0].line == 3
    assert "on_hand must be a whole number from 0" in report.problems[0].reason
    level = admin_db.get(f"stock:S{t}-1:MAIN")
    assert (level["on_hand"], level["reserved"]) == (120, 0)
    # reservations are ours, not the feed's: an update keeps them
    level["reserved"], level["holds"] = 30, {"SO-000001/1": 30}
    admin_db.save(level)
    report = import_bytes(ctx(), f"sku,warehouse,on_hand\nS{t}-1,MAIN,150\n".encode(), "csv")
    assert report.counts["updated"] == 1
    level = admin_db.get(f"stock:S{t}-1:MAIN")
    assert (level["on_hand"], level["reserved"]) == (150, 30)


def test_a_person_without_the_rights_gets_each_row_refused_by_the_database(ctx):
    report = import_bytes(ctx("sally"), f"sku,warehouse,on_hand\nR{tag()},MAIN,1\n".encode(), "csv")
    assert report.counts["failed"] == 1
    assert "may change stock" in report.problems[0].reason


# ------------------------------------------------------------------ JSON
def test_a_json_file_with_several_kinds_reports_bad_records_by_line(ctx, admin_db):
    t = tag()
    text = f"""{{
  "customers": [
    {{"id": "J{t}", "name": "Jay Corp", "tier": "silver", "currency": "usd"}}
  ],
  "products": [
    {{"sku": "J{t}", "description": "Jay part", "list_prices": {{"USD": "2.50"}}}}
  ],
  "stock": [
    {{"sku": "J{t}", "warehouse": "MAIN", "on_hand": 5}},
    {{"sku": "J{t}", "warehouse": "MAIN", "on_hand": "lots"}}
  ],
  "orders": [
    {{"external_ref": "JS-{t}-1", "customer": "J{t}", "lines": [{{"sku": "J{t}", "qty": 2, "unit_price": "3.00"}}]}},
    {{"external_ref": "JS-{t}-2", "customer": "J{t}", "lines": []}},
    {{"external_ref": "JS-{t}-3", "customer": "J{t}", "lines": [{{"sku": "J{t}", "qty": 1, "unit_price": 1}}],
      "colour": "red"}}
  ]
}}"""
    report = import_bytes(ctx(), text.encode(), "json")
    assert report.counts["created"] == 4 and report.counts["failed"] == 3
    problems = {p.line: p.reason for p in report.problems}
    assert "on_hand must be a whole number from 0, not 'lots'" in problems[10]
    assert "an order needs at least one line" in problems[14]
    assert "unknown field(s) colour" in problems[15]
    order = orders_with_ref(admin_db, f"JS-{t}-1")[0]
    assert order["currency"] == "USD" and order["customer"]["name"] == "Jay Corp"   # the new customer's currency


def test_json_lines_and_a_plain_array_are_read_too(ctx):
    t = tag()
    lines = (f'{{"id": "L{t}1", "name": "Lines One"}}\n{{"id": "L{t}2", "name": "Lines Two"}}\n').encode()
    assert import_bytes(ctx(), lines, "json", "customers").counts["created"] == 2
    array = f'[{{"sku": "A{t}", "warehouse": "MAIN", "on_hand": 1}}]'.encode()
    assert import_bytes(ctx(), array, "json").counts["created"] == 1


def test_malformed_json_is_refused_with_its_line(ctx):
    with pytest.raises(ImportRefused, match="not valid JSON.*line 3"):
        import_bytes(ctx(), b'{"orders": [\n  {"external_ref": "x"},\n  {oops}\n]}', "json")


# ------------------------------------------------------------------ XML
def test_an_xml_file_in_our_schema_imports_good_records_and_reports_bad_ones_by_line(ctx, admin_db):
    t = tag()
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<orderdesk xmlns="urn:orderdesk:exchange:1" version="1">
  <customers>
    <customer id="XM{t}" tier="bronze"><name>Xml &amp; Sons</name><credit-limit>250.00</credit-limit>
      <contact name="Ann" email="ann@xml.example"/></customer>
  </customers>
  <products>
    <product sku="XM{t}" tax-class="reduced"><description>Xml widget</description><price currency="EUR">5.00</price></product>
  </products>
  <stock>
    <item sku="XM{t}" warehouse="MAIN" on-hand="12"/>
  </stock>
  <orders>
    <order external-ref="XO-{t}-1" customer="XM{t}" status="submitted" priority="1">
      <promised-date>2026-12-24</promised-date>
      <readers><name>[Sales]</name><name>mia</name></readers>
      <line sku="XM{t}" qty="2" unit-price="5.00"><description>Xml widget</description></line>
    </order>
    <order external-ref="XO-{t}-2" customer="XM{t}">
      <line sku="XM{t}" qty="0" unit-price="5.00"/>
    </order>
    <thing/>
  </orders>
</orderdesk>"""
    report = import_bytes(ctx(), xml.encode(), "xml")
    assert report.counts["created"] == 4 and report.counts["failed"] == 2
    problems = {p.line: p.reason for p in report.problems}
    assert "Line 1: quantity must be a whole number from 1" in problems[19]
    assert "holds <order> elements, not <thing>" in problems[22]
    order = orders_with_ref(admin_db, f"XO-{t}-1")[0]
    assert order["readers"] == ["[Sales]", "mia"] and order["lines"][0]["description"] == "Xml widget"
    assert admin_db.get(f"customer:XM{t}")["name"] == "Xml & Sons"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<orderdesk><customers><customer id="BOMB1"><name>&lol3;</name></customer></customers></orderdesk>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE orderdesk [ <!ENTITY secret SYSTEM "file:///etc/passwd"> ]>
<orderdesk><customers><customer id="XXE1"><name>&secret;</name></customer></customers></orderdesk>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE orderdesk SYSTEM "http://127.0.0.1:9/evil.dtd">
<orderdesk><customers><customer id="DTD1"><name>x</name></customer></customers></orderdesk>"""


@pytest.mark.parametrize("name,data,needle", [
    ("entity bomb", BILLION_LAUGHS, "document type declaration"),
    ("external entity", XXE, "document type declaration"),
    ("external DTD", EXTERNAL_DTD, "document type declaration"),
    ("not well-formed", b"<orderdesk><customers></orderdesk>", "not well-formed XML at line 1"),
])
def test_hostile_or_broken_xml_is_refused_with_a_clear_error_and_nothing_written(ctx, admin_db, name, data, needle):
    before = all_ids(admin_db)
    with pytest.raises(ImportRefused, match=needle) as exc:
        import_bytes(ctx(), data, "xml", filename=f"{name}.xml")
    assert "Nothing was imported" in exc.value.reason or "not well-formed" in exc.value.reason
    assert all_ids(admin_db) == before


def test_entities_are_refused_even_where_a_doctype_is_tolerated():
    from oms.interchange import xmlformat
    with pytest.raises(ImportRefused, match="declares an entity"):
        xmlformat.parse(BILLION_LAUGHS, allow_doctype=True)
    with pytest.raises(ImportRefused, match="declares an entity|external resource"):
        xmlformat.parse(XXE, allow_doctype=True)


def test_the_kind_is_told_from_the_columns_or_refused_with_the_known_ones(ctx):
    with pytest.raises(ImportRefused, match="cannot tell what the file holds"):
        import_bytes(ctx(), b"foo,bar\n1,2\n", "csv")
    with pytest.raises(ImportRefused, match="unknown column"):
        import_bytes(ctx(), b"sku,warehouse,on_hand,colour\nA,B,1,red\n", "csv")


def test_every_element_and_attribute_we_read_or_write_is_declared_in_our_xml_schema():
    """docs/xml/orderdesk.xsd documents the format; keep it true to the code."""
    import re
    from pathlib import Path
    xsd = (Path(__file__).resolve().parents[2] / "docs" / "xml" / "orderdesk.xsd").read_text()
    declared = set(re.findall(r'<xs:(?:element|attribute) name="([^"]+)"', xsd))
    used = {"orderdesk", "orders", "customers", "stock", "order", "customer", "item", "line", "description",
            "promised-date", "notes", "readers", "authors", "name", "contact", "credit-limit", "open-balance",
            "days-late", "partner", "credit-hold", "rows", "row", "cell",
            "external-ref", "number", "status", "priority", "currency", "sku", "qty", "unit-price", "id", "tier",
            "warehouse", "on-hand", "email", "phone", "view", "version", "products", "product", "price",
            "unit", "tax-class", "invoices", "invoice", "customer-id", "customer-name", "due-date", "total",
            "still-due", "state", "payments", "payment", "received-on", "amount", "method", "reference", "share"}
    from oms.interchange import invoice_export
    assert set(invoice_export.XML_NAMES.values()) | set(invoice_export.PAYMENT_XML.values()) <= used
    assert used - declared == set()
    assert formats.ORDER_COLUMNS   # the CSV columns are documented in docs/import-export.md
