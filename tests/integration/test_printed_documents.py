"""Printed documents on the real server: the order confirmation, a shipment's packing slip and a
warehouse's pick list, as pages for paper and as PDFs whose text is read back."""
from __future__ import annotations

import io
import re

import pypdf

from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401


ROW = r"<strong>(T-[0-9A-F]+)</strong></td><td>[^<]*</td><td class=\"num\">(\d+)</td>\s*<td>(SO-\d+) / (\d)"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_confirmation_packing_slip_and_pick_list(web, fulfil, new_customer, new_sku):
    a, b = sorted([new_sku(5, EAST=0), new_sku(5)])
    cid = new_customer("gold", ship_tos=[{"id": "MAIN", "name": "Slip AG", "street": "9 Quay", "city": "Kiel",
                                          "postcode": "24103", "country": "DE"}])
    order = fulfil("sally").create({"customer": cid, "status": "submitted", "customer_po": "PO-SLIP",
                                    "lines": [line(b, 2, "3.00"), line(a, 3, "4.00")]})
    number = order["number"]
    web.login("wanda")
    html = web.get(f"/orders/{number}/confirmation").get_data(as_text=True)
    assert "<h1>Order confirmation</h1>" in html and "PO-SLIP" in html and "9 Quay" in html
    text = pdf_text(web.get(f"/orders/{number}/confirmation?format=pdf").data)
    assert "Order confirmation" in text and number in text and "21.42" in text   # (6.00 + 12.00) x 1.19

    page = web.get("/warehouses/MAIN/pick-list").get_data(as_text=True)
    rows = re.findall(ROW, page)
    mine = [r for r in rows if r[2] == number]
    assert mine == [(a, "3", number, "2"), (b, "2", number, "1")]      # SKU order, not line order
    assert "Pick list" in pdf_text(web.get("/warehouses/MAIN/pick-list?format=pdf").data)
    assert web.get("/warehouses/not a warehouse/pick-list").status_code == 400

    fulfil("wanda").act(number, "pick")
    fulfil("sam").ship(number, "MAIN", [{"line": 1, "qty": 2}], carrier="DHL", tracking="JD00042")
    page = web.get(f"/orders/{number}").get_data(as_text=True)
    slip = re.search(r'href="(/orders/[^"]+/packing-slip)"', page).group(1)
    listed = page.split("<h2>Shipments</h2>", 1)[1].split("</ul>", 1)[0]
    assert "shipment:" not in listed and "DHL JD00042" in listed   # carrier and tracking, no internal ids
    html = web.get(slip).get_data(as_text=True)
    assert "<h1>Packing slip</h1>" in html and "JD00042" in html and "Unit price" not in html
    text = pdf_text(web.get(slip + "?format=pdf").data)
    assert "Packing slip" in text and "DHL" in text and "2 unit(s) in this parcel" in text
    # what shipped is off the pick list; what is left stays on it
    page = web.get("/warehouses/MAIN/pick-list").get_data(as_text=True)
    assert [r for r in re.findall(ROW, page)
            if r[2] == number] == [(a, "3", number, "2")]
    assert web.get(f"/orders/{number}/shipments/nope/packing-slip").status_code == 404


def test_the_api_serves_the_printed_documents_as_pdf(app, fulfil, new_customer, new_sku):
    import base64
    auth = {"Authorization": "Basic " + base64.b64encode(b"wanda:demo").decode()}
    sku = new_sku(5)
    order = fulfil("sally").create({"customer": new_customer("gold"), "status": "submitted", "lines": [line(sku, 2)]})
    number = order["number"]
    c = app.test_client()
    assert number in pdf_text(c.get(f"/api/v1/orders/{number}/confirmation.pdf", headers=auth).data)
    assert number in pdf_text(c.get("/api/v1/warehouses/MAIN/pick-list.pdf", headers=auth).data)
    fulfil("wanda").act(number, "pick")
    [shipment], _ = fulfil("sam").ship(number, "MAIN")
    r = c.get(f"/api/v1/orders/{number}/shipments/{shipment['_id'].split(':', 1)[1]}/packing-slip.pdf", headers=auth)
    assert r.mimetype == "application/pdf" and "Packing slip" in pdf_text(r.data)
    assert c.get(f"/api/v1/orders/{number}/shipments/nope/packing-slip.pdf", headers=auth).status_code == 404
    assert c.get("/api/v1/warehouses/not ok/pick-list.pdf", headers=auth).status_code == 400
