"""Billing on the real server: invoices from what shipped (one per shipment), payments shared out
over them, the order closing once everything shipped is invoiced and paid; and the database
itself refusing any change to an issued invoice or a recorded payment, from every writer (a
server admin included), sent straight to the server."""
from __future__ import annotations

import copy

import pytest

from oms.billing.invoices import BillingService
from oms.core.errors import InvalidInput
from oms.crm.customers import exposure_by_customer
from oms.store.couch import Forbidden
from tests.fulfilment_fixtures import agent, fulfil, line, new_customer, new_sku  # noqa: F401


def shipped_in_two(fulfil, new_customer, new_sku, **profile):
    """An order of two lines (5 + 2 units at 10.00, shipped to Germany: 19 % tax), shipped in two
    parts: line 1 first, then line 2."""
    x, y = new_sku(5), new_sku(2)
    cid = new_customer("gold", ship_tos=[{"id": "MAIN", "name": "Test GmbH", "city": "Berlin", "country": "DE"}],
                       **profile)
    order = fulfil("sally").create({"customer": cid, "status": "submitted", "shipping": "7.00",
                                    "lines": [line(x, 5), line(y, 2)]})
    assert order["status"] == "allocated", order.get("credit")
    fulfil("wanda").act(order["number"], "pick")
    sam = fulfil("sam")
    sam.ship(order["number"], "MAIN", [{"line": 1, "qty": 5}])
    return order["number"], cid, sam


def test_an_order_is_invoiced_per_shipment_paid_in_parts_and_closes_when_paid(fulfil, new_customer, new_sku, agent):
    number, cid, sam = shipped_in_two(fulfil, new_customer, new_sku)
    bill = fulfil("bill")
    before = exposure_by_customer(agent.db, {f"customer:{cid}": "EUR"})[f"customer:{cid}"]

    first, order = bill.billing().issue(number)
    assert order["status"] == "partially_shipped" and order["history"][-1]["action"] == "bill"
    [inv1] = first
    # 5 x 10.00 = 50.00, 19 % = 9.50, and the order's shipping 7.00 (+1.33 tax) on the first invoice
    assert inv1["lines"] == [{"line": 1, "sku": inv1["lines"][0]["sku"], "description": inv1["lines"][0]["description"],
                              "qty": 5, "unit_price_cents": 1000, "amount_cents": 5000, "tax_class": "standard",
                              "tax_rate_bp": 1900, "tax_cents": 950}]
    assert inv1["totals"] == {"net_cents": 5000, "qty": 5, "shipping_cents": 700, "tax_cents": 950 + 133,
                              "gross_cents": 5000 + 700 + 1083}
    assert inv1["issued_by"] == "bill" and inv1["ship_to"]["country"] == "DE" and inv1["order"] == number
    # billed once: nothing left to invoice until more ships
    with pytest.raises(InvalidInput, match="nothing shipped that is not invoiced"):
        bill.billing().issue(number)
    # the exposure moved from the order to the invoice, not counted twice
    assert exposure_by_customer(agent.db, {f"customer:{cid}": "EUR"})[f"customer:{cid}"] == before

    sam.ship(number, "MAIN", [{"line": 2, "qty": 2}])
    second, order = bill.billing().issue(number)
    assert order["status"] == "invoiced" and order["history"][-1]["action"] == "invoice"
    [inv2] = second
    assert inv2["totals"]["gross_cents"] == 2000 + 380 and inv2["totals"]["shipping_cents"] == 0
    assert inv2["number"] > inv1["number"]
    assert [i["number"] for i in bill.billing().of_order(order)] == [inv1["number"], inv2["number"]]

    # a partial payment, shared out oldest first: the order stays Invoiced and cannot close
    payment, closed = bill.billing().record_payment({"customer": cid, "amount": "60.00", "method": "bank_transfer",
                                                     "reference": "Remittance 1"})
    assert payment["allocations"] == [{"invoice": inv1["number"], "amount_cents": 6000}] and closed == []
    got = bill.billing().get(inv1["number"])
    assert got["unpaid_cents"] == 6783 - 6000 and got["state"] == "partly_paid"
    with pytest.raises(InvalidInput, match="invoices not paid in full"):
        bill.act(number, "close")
    # more than an invoice asks for is refused beside the allocation
    with pytest.raises(InvalidInput) as too_much:
        bill.billing().record_payment({"customer": cid, "amount": "100.00",
                                       "allocations": [{"invoice": inv2["number"], "amount": "99.00"}]})
    assert "asks for 23.80 EUR only" in too_much.value.fields["allocations[0].amount"]

    # the rest, over both invoices in one payment: every invoice paid, the order closes itself
    payment, closed = bill.billing().record_payment({"customer": cid, "amount": "31.63", "allocations": [
        {"invoice": inv1["number"], "amount": "7.83"}, {"invoice": inv2["number"], "amount": "23.80"}]})
    assert [o["number"] for o in closed] == [number] and closed[0]["status"] == "closed"
    assert bill.billing().get(inv2["number"])["state"] == "paid"
    # all paid: the customer owes nothing for it any more
    assert before == 9163 and exposure_by_customer(agent.db, {f"customer:{cid}": "EUR"})[f"customer:{cid}"] == 0


def test_a_manager_closes_an_unpaid_order_only_with_a_reason(fulfil, new_customer, new_sku):
    number, _, sam = shipped_in_two(fulfil, new_customer, new_sku)
    sam.ship(number, "MAIN", [{"line": 2, "qty": 2}])
    fulfil("bill").act(number, "invoice")
    with pytest.raises(InvalidInput, match="a Manager closes it with a reason"):
        fulfil("mia").act(number, "close")
    assert fulfil("mia").act(number, "close", reason="written off: customer ceased trading")["status"] == "closed"


def test_bad_payments_get_a_message_beside_each_field(fulfil, new_customer):
    cid = new_customer()
    with pytest.raises(InvalidInput) as bad:
        fulfil("bill").billing().record_payment({"customer": "C9999999", "amount": "-5", "method": "gold bars",
                                                 "received_on": "2099-01-01"})
    assert set(bad.value.fields) == {"customer", "amount", "method", "received_on"}
    with pytest.raises(InvalidInput) as none_open:
        fulfil("bill").billing().record_payment({"customer": cid, "amount": "5.00"})
    assert none_open.value.fields == {"allocations": "this customer has no unpaid invoice"}


def test_only_billing_or_a_manager_invoices(fulfil, new_customer, new_sku):
    number, _, _ = shipped_in_two(fulfil, new_customer, new_sku)
    with pytest.raises(Forbidden):
        fulfil("sally").act(number, "bill")


@pytest.fixture(scope="module")
def issued(fulfil, new_customer, new_sku):
    number, cid, _ = shipped_in_two(fulfil, new_customer, new_sku)
    [inv], _ = fulfil("bill").billing().issue(number)
    payment, _ = fulfil("bill").billing().record_payment({"customer": cid, "amount": "1.00"})
    return inv, payment


@pytest.mark.parametrize("writer", ["bill", "mia", "sally", "admin"])
def test_no_writer_changes_or_deletes_an_issued_invoice_or_a_payment(issued, person, admin_db, writer):
    """Straight to the server, past the app: the invoice's amount, its type, a deletion."""
    db = admin_db if writer == "admin" else person(writer)[1]
    for doc in issued:
        current = admin_db.get(doc["_id"])
        cheaper = copy.deepcopy(current)
        if doc["type"] == "invoice":
            cheaper["lines"][0]["unit_price_cents"] = 1
        else:
            cheaper["amount_cents"] = 100_000
        retyped = dict(current, type="comment", body="x")
        for attempt in (cheaper, retyped, {"_id": current["_id"], "_rev": current["_rev"], "_deleted": True}):
            with pytest.raises(Forbidden, match="never changes and is never deleted"):
                db.save(attempt)
        assert admin_db.get(doc["_id"]) == current


def test_the_server_refuses_invoices_that_do_not_add_up_or_come_from_outside_billing(issued, person, admin_db):
    inv = {k: v for k, v in copy.deepcopy(issued[0]).items() if k != "_rev"}
    inv.update(_id="invoice:INV-999990", number="INV-999990")
    bill_db, sally_db = person("bill")[1], person("sally")[1]
    with pytest.raises(Forbidden, match="Only the \\[Billing\\] role"):
        sally_db.save(dict(inv, issued_by="sally"))
    wrong = copy.deepcopy(inv)
    wrong["totals"]["gross_cents"] -= 1
    with pytest.raises(Forbidden, match="totals.gross_cents must be"):
        bill_db.save(wrong)
    untaxed = copy.deepcopy(inv)
    untaxed["lines"][0]["tax_cents"] = 0
    with pytest.raises(Forbidden, match="tax_cents must be"):
        bill_db.save(untaxed)
    with pytest.raises(Forbidden, match="issued_by must be you"):
        bill_db.save(dict(inv, issued_by="mia"))
    # a number squatted under another type
    with pytest.raises(Forbidden, match='Only an invoice is kept under "invoice:", not a "comment"'):
        sally_db.save({"_id": "invoice:INV-999991", "type": "comment", "order": "x", "body": "mine"})
    # and the invoice counter is Billing's
    with pytest.raises(Forbidden, match="Only the \\[Billing\\] role or a Manager may number invoices"):
        sally_db.save(dict(admin_db.get("counter:invoice"), value=admin_db.get("counter:invoice")["value"] + 5))


def test_an_invoice_the_order_names_but_the_server_lacks_is_written_by_the_next_issue(fulfil, new_customer, new_sku,
                                                                                        admin_db):
    number, _, sam = shipped_in_two(fulfil, new_customer, new_sku)
    svc = fulfil("bill").billing()
    real_write, lost = svc._write, []
    svc._write = lambda doc: lost.append(doc) or doc     # the second write never reaches the server
    svc.issue(number)
    svc._write = real_write
    assert admin_db.get_or_none(lost[0]["_id"]) is None
    sam.ship(number, "MAIN", [{"line": 2, "qty": 2}])
    new, order = svc.issue(number)
    assert admin_db.get(lost[0]["_id"])["totals"] == lost[0]["totals"]
    assert [i["number"] for i in order["invoices"]] == [lost[0]["number"], new[0]["number"]]


def test_billing_service_needs_the_order_to_be_readable(fulfil, new_customer, new_sku):
    number, _, _ = shipped_in_two(fulfil, new_customer, new_sku)
    svc = BillingService(fulfil("rita").db, fulfil("rita").access, fulfil("rita").plain())
    with pytest.raises(Forbidden):
        svc.issue(number)


def test_a_credit_note_corrects_an_invoice_never_beyond_what_it_billed(fulfil, new_customer, new_sku, admin_db):
    number, cid, _ = shipped_in_two(fulfil, new_customer, new_sku)
    billing = fulfil("bill").billing()
    [inv], _ = billing.issue(number)                       # 5 x 10.00 + shipping 7.00, 19 % tax: 67.83
    with pytest.raises(InvalidInput) as bad:
        billing.credit(inv["number"], [{"line": 1, "qty": 6}, {"line": 9, "qty": 1}], reason=" ")
    assert set(bad.value.fields) == {"lines[0].qty", "lines[1].line", "reason"}
    assert "from 1 to 5" in bad.value.fields["lines[0].qty"]

    cn = billing.credit(inv["number"], [{"line": 1, "qty": 2}], reason="2 units arrived damaged")
    assert cn["number"].startswith("CN-") and cn["invoice"] == inv["number"] and cn["issued_by"] == "bill"
    assert cn["totals"] == {"net_cents": 2000, "qty": 2, "shipping_cents": 0, "tax_cents": 380, "gross_cents": 2380}
    got = billing.get(inv["number"])
    assert got["unpaid_cents"] == 6783 - 2380 and got["credit_notes"] == [{"credit_note": cn["number"], "amount_cents": 2380}]
    # only 3 are left to credit on line 1; the rest (and the shipping, once) in one go
    with pytest.raises(InvalidInput, match="from 1 to 3"):
        billing.credit(inv["number"], [{"line": 1, "qty": 4}], reason="again")
    rest = billing.credit(inv["number"], reason="order withdrawn by agreement")
    assert rest["totals"]["gross_cents"] == 6783 - 2380 and rest["totals"]["shipping_cents"] == 700
    with pytest.raises(InvalidInput, match="nothing left to credit"):
        billing.credit(inv["number"], reason="once more")
    assert billing.get(inv["number"])["unpaid_cents"] == 0 and billing.get(inv["number"])["state"] == "paid"
    # and a credit note is as final as an invoice, straight to the server
    current = admin_db.get(cn["_id"])
    with pytest.raises(Forbidden, match="never changes"):
        admin_db.save(dict(current, reason="edited"))


def test_payment_reminders_go_out_once_per_level_as_an_invoice_stays_unpaid(fulfil, new_customer, new_sku, agent,
                                                                            acl_entries, admin_db):
    import datetime as dt

    from oms import agents
    from oms.agents import AgentContext
    from oms.core import clock

    number, cid, _ = shipped_in_two(fulfil, new_customer, new_sku)
    [inv], _ = fulfil("bill").billing().issue(number)
    due = dt.date.fromisoformat(inv["due_date"])

    def run_on(day: dt.date) -> list[str]:
        ctx = AgentContext(db=agent.db, access=agent.access, clock=clock.fixed(f"{day.isoformat()}T06:00:00Z"),
                           directory=None, smtp=None, acl_entries=acl_entries)
        return [t["id"] for t in agents.run_agent(ctx, "dunning")["touched"] if inv["number"] in t["id"]]

    assert run_on(due) == []                                              # due today: not overdue yet
    assert run_on(due + dt.timedelta(days=2)) == [f"dunning:{inv['number']}:1"]
    assert run_on(due + dt.timedelta(days=3)) == []                       # once per level
    note = admin_db.get(f"dunning:{inv['number']}:1")
    assert note["to"] == ["[Billing]"] and "67.83 EUR" in note["subject"] and note["order"] == number
    fulfil("bill").billing().record_payment({"customer": cid, "amount": "60.00"})
    assert run_on(due + dt.timedelta(days=15)) == [f"dunning:{inv['number']}:2"]
    assert "7.83 EUR" in admin_db.get(f"dunning:{inv['number']}:2")["subject"]
    fulfil("bill").billing().record_payment({"customer": cid, "amount": "7.83"})
    assert run_on(due + dt.timedelta(days=40)) == []                      # paid: no final notice


def test_issued_documents_and_reminders_are_mailed_to_the_customer_with_the_pdf(fulfil, new_customer, new_sku, agent,
                                                                                acl_entries, admin_db):
    import datetime as dt
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    from oms import agents
    from oms.agents import AgentContext
    from oms.agents.mailer import SmtpSettings
    from oms.core import clock

    class Inbox:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((sorted(envelope.rcpt_tos),
                                  email.message_from_bytes(envelope.content, policy=email.policy.default)))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=port, sender="Order Desk <desk@orderdesk.example>")

        def run(names, day=None):
            when = clock.fixed(f"{(day or dt.date.today()).isoformat()}T06:00:00Z")
            ctx = AgentContext(db=agent.db, access=agent.access, clock=when, directory=None, smtp=smtp,
                               acl_entries=acl_entries)
            for name in names:
                agents.run_agent(ctx, name)

        run(["outbox", "documents"])   # what was issued before the agent first ran is never mailed
        x = new_sku(5)
        cid = new_customer("gold", contacts=[{"name": "Anne Payer", "email": "anne@payer.example"}],
                           ship_tos=[{"id": "MAIN", "name": "Payer AG", "city": "Bonn", "country": "DE"}])
        order = fulfil("sally").create({"customer": cid, "status": "submitted", "lines": [line(x, 2, "10.00")]})
        fulfil("wanda").act(order["number"], "pick")
        fulfil("sam").act(order["number"], "ship")
        [inv], _ = fulfil("bill").billing().issue(order["number"])

        run(["outbox", "documents", "mail"])
        confirmations = [m for to, m in inbox.messages if to == ["anne@payer.example"]
                         and m["Subject"] == f"Order confirmation {order['number']}"]
        assert len(confirmations) == 1
        [attached] = [p for p in confirmations[0].walk() if p.get_content_type() == "application/pdf"]
        assert attached.get_filename() == f"{order['number']}-confirmation.pdf"
        sent = [m for to, m in inbox.messages if to == ["anne@payer.example"] and inv["number"] in m["Subject"]]
        assert len(sent) == 1 and sent[0]["Subject"].startswith(f"Invoice {inv['number']} for order {order['number']}")
        [pdf] = [p for p in sent[0].walk() if p.get_content_type() == "application/pdf"]
        assert pdf.get_filename() == f"{inv['number']}.pdf" and pdf.get_payload(decode=True).startswith(b"%PDF")
        note = admin_db.get(f"docmail:invoice:{inv['number']}")
        assert note["to"] == ["[Billing]"] and note["mail"]["state"] == "sent"
        run(["outbox", "documents", "mail"])      # once only
        assert len([m for to, m in inbox.messages if inv["number"] in m["Subject"]]) == 1

        run(["dunning", "mail"], dt.date.fromisoformat(inv["due_date"]) + dt.timedelta(days=3))
        reminder = [m for to, m in inbox.messages if to == ["anne@payer.example"] and "Payment reminder" in m["Subject"]]
        assert len(reminder) == 1 and "23.80 EUR is still unpaid" in reminder[0].get_body(("plain",)).get_content()
    finally:
        controller.stop()
