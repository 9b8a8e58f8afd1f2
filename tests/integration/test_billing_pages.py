"""Billing through the web and the API on the real server: the order page offers the invoice
step when shipments wait to be billed, lists the invoices with what each still asks for; the
invoice prints as a page and downloads as a PDF whose text is read back; payments are recorded
from a form with a message beside each bad field, and through the API."""
from __future__ import annotations

import base64
import io
import re

import pypdf

from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401


def basic(name):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:demo".encode()).decode()}


def shipped_part(fulfil, new_customer, new_sku):
    x, y = new_sku(4), new_sku(0)
    cid = new_customer("gold", ship_tos=[{"id": "MAIN", "name": "Paper GmbH", "street": "2 Mill Lane", "city": "Köln",
                                          "postcode": "50667", "country": "DE"}])
    order = fulfil("sally").create({"customer": cid, "status": "submitted", "customer_po": "PO-77",
                                    "lines": [line(x, 4, "12.50"), line(y, 1)]})
    fulfil("wanda").act(order["number"], "pick")
    fulfil("sam").ship(order["number"], "MAIN", [{"line": 1, "qty": 4}])
    return order["number"], cid


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_order_page_invoices_what_shipped_and_the_invoice_prints_and_downloads(web, fulfil, new_customer, new_sku):
    number, cid = shipped_part(fulfil, new_customer, new_sku)
    web.login("bill")
    page = web.get(f"/orders/{number}").get_data(as_text=True)
    assert "Invoice what has shipped" in page and ">Invoice<" not in page   # a part shipped: the part
    r = web.post(f"/orders/{number}/act", {"action": "bill", "rev": fulfil("bill").get(number)["_rev"]},
                 csrf_from=f"/orders/{number}")
    assert r.status_code == 303
    page = web.get(f"/orders/{number}").get_data(as_text=True)
    inv = re.search(r">(INV-\d{6,})</a>", page).group(1)
    bar = page.split('class="actionbar"', 1)[1].split("</div>", 1)[0] if 'class="actionbar"' in page else ""
    assert "Invoice what has shipped" not in bar          # nothing more to bill until more ships
    assert "59.50 EUR" in page and "Open" in page          # 4 x 12.50 = 50.00 + 19 % tax

    html = web.get(f"/invoices/{inv}").get_data(as_text=True)
    assert f"<strong>{inv}</strong>" in html and "PO-77" in html and "Paper GmbH" in html and "2 Mill Lane" in html
    assert "print.css" in html and "Download PDF" in html  # a page for paper, with its way back on screen
    assert "@page" in web.get("/print.css").get_data(as_text=True)
    pdf = web.get(f"/invoices/{inv}?format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for needle in (inv, number, "PO-77", "Paper GmbH", "50.00", "9.50", "59.50", "Download PDF"):
        assert (needle in text) is (needle != "Download PDF"), needle

    # the payment form: problems beside the fields, nothing recorded
    r = web.post("/payments/new", {"customer": cid, "amount": "12,3x", "invoice": inv, "method": "bank_transfer"})
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert 'id="pay-amount-error"' in body and "an amount above zero" in body
    r = web.post("/payments/new", {"customer": cid, "amount": "59.50", "invoice": inv, "method": "card",
                                   "reference": "Card 4242"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/invoices/{inv}")
    assert 'class="state paid">Paid<' in web.get(f"/invoices/{inv}").get_data(as_text=True)


def test_the_api_lists_issues_and_pays_invoices(app, fulfil, new_customer, new_sku):
    number, cid = shipped_part(fulfil, new_customer, new_sku)
    c = app.test_client()
    assert c.post(f"/api/v1/orders/{number}/invoices", headers=basic("sally")).status_code == 403
    r = c.post(f"/api/v1/orders/{number}/invoices", headers={**basic("bill"), "Idempotency-Key": f"inv-{number}"})
    assert r.status_code == 201, r.get_json()
    [inv] = r.get_json()["invoices"]
    again = c.post(f"/api/v1/orders/{number}/invoices", headers={**basic("bill"), "Idempotency-Key": f"inv-{number}"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"   # a retry bills nothing twice
    assert [i["number"] for i in c.get(f"/api/v1/orders/{number}/invoices", headers=basic("rita")).get_json()["invoices"]] \
        == [inv["number"]]
    r = c.post(f"/api/v1/orders/{number}/invoices", headers=basic("bill"))
    assert r.status_code == 400 and "nothing shipped that is not invoiced" in r.get_json()["detail"]

    r = c.post("/api/v1/payments", headers=basic("bill"), json={"customer": cid, "amount": "abc", "method": "barter"})
    assert r.status_code == 400 and {e["field"] for e in r.get_json()["errors"]} == {"amount", "method"}
    r = c.post("/api/v1/payments", headers=basic("bill"), json={"customer": cid, "amount": "20.00"})
    assert r.status_code == 201 and r.get_json()["payment"]["allocations"] == [{"invoice": inv["number"], "amount_cents": 2000}]
    got = c.get(f"/api/v1/invoices/{inv['number']}", headers=basic("rita")).get_json()
    assert got["unpaid_cents"] == inv["totals"]["gross_cents"] - 2000 and got["state"] == "partly_paid"
    pdf = c.get(f"/api/v1/invoices/{inv['number']}.pdf", headers=basic("rita"))
    assert pdf.mimetype == "application/pdf" and "Still due" in pdf_text(pdf.data)
    assert c.get("/api/v1/invoices/INV-999999", headers=basic("bill")).status_code == 404


def test_a_credit_note_from_the_invoice_page_and_the_api(web, app, fulfil, new_customer, new_sku):
    number, _ = shipped_part(fulfil, new_customer, new_sku)
    [inv], _ = fulfil("bill").billing().issue(number)
    web.login("bill")
    assert "Issue a credit note" in web.get(f"/invoices/{inv['number']}").get_data(as_text=True)
    url = f"/invoices/{inv['number']}/credit"
    r = web.post(url, {"qty-1": "9", "reason": ""})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="qty-1-error"' in body and "from 1 to 4" in body and 'id="cn-reason-error"' in body
    r = web.post(url, {"qty-1": "1", "reason": "one unit scratched"})
    assert r.status_code == 303
    cn = r.headers["Location"].rsplit("/", 1)[1]
    html = web.get(f"/credit-notes/{cn}").get_data(as_text=True)
    assert "<h1>Credit note</h1>" in html and "one unit scratched" in html and "14.88" in html   # 12.50 + 19 %
    text = pdf_text(web.get(f"/credit-notes/{cn}?format=pdf").data)
    assert "Credit note" in text and cn in text and inv["number"] in text
    assert "Credited" in web.get(f"/invoices/{inv['number']}").get_data(as_text=True)

    c = app.test_client()
    r = c.post(f"/api/v1/invoices/{inv['number']}/credit_notes", headers=basic("sally"), json={"reason": "x"})
    assert r.status_code == 403
    r = c.post(f"/api/v1/invoices/{inv['number']}/credit_notes", headers=basic("bill"),
               json={"lines": [{"line": 1, "qty": 3}], "reason": "the rest came back"})
    assert r.status_code == 201 and r.get_json()["totals"]["net_cents"] == 3750
    assert c.get(f"/api/v1/credit_notes/{r.get_json()['number']}", headers=basic("rita")).status_code == 200
    r = c.post(f"/api/v1/invoices/{inv['number']}/credit_notes", headers=basic("bill"), json={"lines": [{"line": 1, "qty": 1}], "reason": "more"})
    assert r.status_code == 400 and r.get_json()["errors"][0]["field"] == "lines[0].qty"


def test_the_open_invoices_list_and_its_csv(web, fulfil, new_customer, new_sku):
    number, cid = shipped_part(fulfil, new_customer, new_sku)
    [inv], _ = fulfil("bill").billing().issue(number)
    web.login("bill")
    page = web.get("/invoices").get_data(as_text=True)
    assert inv["number"] in page and "Open invoices" in page
    csv_text = web.get("/invoices?format=csv").get_data(as_text=True)
    row = next(line for line in csv_text.splitlines() if line.startswith(inv["number"]))
    assert row.endswith(",59.50,59.50,Open") and number in row
    fulfil("bill").billing().record_payment({"customer": cid, "amount": "59.50"})
    assert inv["number"] not in web.get("/invoices").get_data(as_text=True)        # paid: not open any more
    assert inv["number"] in web.get("/invoices?all=1").get_data(as_text=True)


def test_the_invoice_list_in_the_api_as_json_csv_and_xml_and_billing_events(app, fulfil, new_customer, new_sku, agent,
                                                                             acl_entries, admin_db):
    from oms import agents
    from oms.agents import AgentContext
    from oms.core import clock
    from oms.interchange import xmlformat

    number, cid = shipped_part(fulfil, new_customer, new_sku)
    [inv], _ = fulfil("bill").billing().issue(number)
    c = app.test_client()
    rows = c.get("/api/v1/invoices", headers=basic("rita")).get_json()["invoices"]
    mine = next(r for r in rows if r["number"] == inv["number"])
    assert mine == {"number": inv["number"], "order": number, "customer_id": cid, "customer": f"Test {cid}",
                    "due_date": inv["due_date"], "currency": "EUR", "gross": "59.50", "unpaid": "59.50", "state": "Open"}
    assert f"{inv['number']},{number}," in c.get("/api/v1/invoices?format=csv", headers=basic("rita")).get_data(as_text=True)
    root = xmlformat.parse(c.get("/api/v1/invoices?format=xml", headers=basic("rita")).data)
    node = next(n for n in root.find("invoices").findall("invoice") if n.attrs["number"] == inv["number"])
    assert node.child_text("still-due") == "59.50" and node.child_text("order") == number
    assert c.get("/api/v1/invoices?format=pdf", headers=basic("rita")).status_code == 400

    payment, _ = fulfil("bill").billing().record_payment({"customer": cid, "amount": "9.50", "reference": "R-77"})
    pid = payment["_id"].split(":", 1)[1]
    rows = c.get(f"/api/v1/payments?since={payment['received_on']}", headers=basic("bill")).get_json()["payments"]
    assert {"payment": pid, "received_on": payment["received_on"], "customer_id": cid, "currency": "EUR",
            "amount": "9.50", "method": "bank_transfer", "reference": "R-77", "invoice": inv["number"],
            "share": "9.50"} in rows
    assert f"{pid},{payment['received_on']},{cid},EUR,9.50" in c.get("/api/v1/payments?format=csv", headers=basic("bill")).get_data(as_text=True)
    paid_xml = xmlformat.parse(c.get("/api/v1/payments?format=xml", headers=basic("bill")).data)
    assert any(n.attrs["id"] == pid and n.child_text("share") == "9.50" for n in paid_xml.find("payments").findall("payment"))
    r = c.get("/api/v1/payments?since=yesterday", headers=basic("bill"))
    assert r.status_code == 400 and "since must be a date" in r.get_json()["detail"]
    ctx = AgentContext(db=agent.db, access=agent.access, clock=clock.fixed("2026-12-07T12:00:00Z"), directory=None,
                       smtp=None, acl_entries=acl_entries)
    agents.run_agent(ctx, "outbox")
    issued = admin_db.get(f"event:invoice:{inv['number']}")
    assert issued["name"] == "invoice.issued" and issued["order"] == number and issued["data"]["totals"]["gross_cents"] == 5950
    paid = admin_db.get(f"event:{payment['_id']}")
    assert paid["name"] == "payment.recorded" and paid["data"]["allocations"] == [{"invoice": inv["number"], "amount_cents": 950}]
    billed = admin_db.get(f"event:{number}:{len(fulfil('bill').get(number)['history']) - 1:04d}")
    assert billed["name"] == "order.billed" and billed["data"]["invoices"][0]["number"] == inv["number"]


def test_billing_requests_of_the_wrong_shape_get_a_400_not_a_crash(app, fulfil, new_customer, new_sku):
    number, cid = shipped_part(fulfil, new_customer, new_sku)
    [inv], _ = fulfil("bill").billing().issue(number)
    c = app.test_client()
    bodies = [
        ("/api/v1/payments", {"customer": cid, "amount": "1.00", "method": ["card"]}),
        ("/api/v1/payments", {"customer": cid, "amount": "1.00", "allocations": [{"invoice": [inv["number"]], "amount": "1"}]}),
        ("/api/v1/payments", {"customer": {"id": cid}, "amount": 5, "received_on": {"y": 1}}),
        (f"/api/v1/invoices/{inv['number']}/credit_notes", {"lines": [{"line": [1], "qty": 1}], "reason": "x"}),
        (f"/api/v1/invoices/{inv['number']}/credit_notes", {"lines": "all", "reason": ["x"]}),
        (f"/api/v1/orders/{number}/returns", {"lines": [{"line": {"n": 1}, "qty": 1, "reason": ["damaged"],
                                                          "outcome": {"x": 1}}], "note": 5, "warehouse": ["MAIN"]}),
    ]
    for url, body in bodies:
        r = c.post(url, headers=basic("bill" if "returns" not in url else "sally"), json=body)
        assert r.status_code in (400, 409), (url, body, r.status_code, r.get_data(as_text=True)[:300])
        assert r.get_json()["detail"], (url, body)


def test_the_history_speaks_of_steps_by_their_titles(web, fulfil, new_customer, new_sku):
    number, _ = shipped_part(fulfil, new_customer, new_sku)
    fulfil("bill").billing().issue(number)
    web.login("rita")
    page = web.get(f"/orders/{number}").get_data(as_text=True)
    history = page.split('<ol class="history">', 1)[1].split("</ol>", 1)[0]
    assert "bill: Invoice what has shipped</li>" in history          # a step that keeps the state: no "A → A"
    assert "sam: Ship part · Picking &rarr; Partially shipped" in history
    assert "sally: Created · " in history
    for internal in (": bill", ": ship_part", ": create", "_"):
        assert internal not in history.replace("Partially shipped", ""), internal


def test_the_import_export_page_exports_invoices_and_payments(web, fulfil, new_customer, new_sku):
    number, cid = shipped_part(fulfil, new_customer, new_sku)
    [inv], _ = fulfil("bill").billing().issue(number)
    payment, _ = fulfil("bill").billing().record_payment({"customer": cid, "amount": "9.50"})
    web.login("bill")
    assert "Payments received" in web.get("/transfer").get_data(as_text=True)
    open_csv = web.get("/transfer/export/billing?what=open_invoices&format=csv")
    assert open_csv.headers["Content-Disposition"].endswith('filename="open_invoices.csv"')
    assert f"{inv['number']},{number}," in open_csv.get_data(as_text=True)
    paid = web.get(f"/transfer/export/billing?what=payments&format=json&since={payment['received_on']}").get_json()["payments"]
    assert any(p["invoice"] == inv["number"] and p["share"] == "9.50" for p in paid)
    assert web.get("/transfer/export/billing?what=secrets").status_code == 404
    assert web.get("/transfer/export/billing?what=payments&format=pdf").status_code == 400
