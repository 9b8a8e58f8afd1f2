"""The CRM/WMS rules as pure functions: priority from the profile and the order (rules/priority.json),
the credit check, each line's availability answer, and what an order holds."""
import datetime as dt

import pytest

from oms.core.errors import InvalidInput
from oms.crm import customers as crm
from oms.wms.stock import answer_from_order, answer_lines, held, merge_allocations

TODAY = dt.date(2026, 11, 25)


def order(net_cents=10_000, promised=None):
    return {"totals": {"net_cents": net_cents}, "promised_date": promised}


@pytest.mark.parametrize("profile,o,short,expected", [
    ({"tier": "bronze"}, order(), False, 5),                                   # 0 points
    ({"tier": "silver"}, order(), False, 4),                                   # 15
    ({"tier": "gold"}, order(), False, 3),                                     # 30
    ({"tier": "gold"}, order(300_000), False, 2),                              # 30 + 10
    ({"tier": "gold"}, order(promised="2026-11-26"), False, 1),                # 30 + 20 + late risk 20
    ({"tier": "silver"}, order(promised="2026-11-30"), True, 2),               # 15 + 10 + waits for stock 20
    ({"tier": "silver"}, order(promised="2026-11-30"), False, 3),              # 15 + 10
    ({"tier": "bronze"}, order(promised="2026-11-01"), False, 2),              # passed: 20 + 20
    ({"tier": "silver", "days_late": 75}, order(), False, 5),                  # 15 - 10
])
def test_priority_follows_the_rulebook(profile, o, short, expected):
    assert crm.priority(profile, o, TODAY, short=short).value == expected


def test_priority_explains_itself():
    p = crm.priority({"tier": "gold", "days_late": 40}, order(1_200_000, "2026-11-27"), TODAY)
    assert p.explain() == "gold customer +30, value 12,000.00 +20, promised in 2 days +20, pays 40 days late -5"
    assert (p.points, p.value) == (65, 1)


def test_credit_within_the_limit_passes():
    d = crm.credit_check({"credit_limit_cents": 1000, "open_balance_cents": 300}, 400, 300)
    assert d.ok and d.exposure_cents == 1000 and d.sentence() == "within the credit limit"


def test_credit_over_the_limit_says_by_how_much():
    d = crm.credit_check({"credit_limit_cents": 1000, "open_balance_cents": 300}, 401, 300)
    assert not d.ok
    assert d.reasons == ("open balance 3.00 + open orders 3.00 + this order 4.01 = 10.01 exceeds the credit limit 10.00",)
    rec = d.record("oms-agent", "2026-11-25T10:00:00Z", "held")
    assert rec["result"] == "hold" and rec["exposure_cents"] == 1001 and rec["limit_cents"] == 1000


def test_a_customer_without_a_limit_has_none_but_a_hold_or_late_payment_still_holds():
    assert crm.credit_check({}, 10**9, 10**9).ok
    assert not crm.credit_check({"credit_hold": True}, 1, 0).ok
    assert not crm.credit_check({"days_late": 91}, 1, 0).ok
    assert crm.credit_check({"days_late": 90}, 1, 0).ok


def test_lines_sharing_a_sku_share_its_stock():
    lines = [{"line": 1, "sku": "A", "qty": 5}, {"line": 2, "sku": "B", "qty": 1}, {"line": 3, "sku": "A", "qty": 5}]
    got = answer_lines(lines, {"A": 7, "B": 0}, known={"A"})
    assert [(a.status, a.available, a.backorder, a.known) for a in got] == [
        ("available", 5, 0, True), ("backorder", 0, 1, False), ("partial", 2, 3, True)]


def test_what_an_order_holds_is_allocated_minus_shipped_per_line_and_warehouse():
    o = {"number": "SO-000001",
         "lines": [{"line": 1, "sku": "A", "qty": 5}, {"line": 2, "sku": "B", "qty": 2}],
         "allocations": [{"line": 1, "sku": "A", "warehouse": "MAIN", "qty": 3},
                         {"line": 1, "sku": "A", "warehouse": "EAST", "qty": 2},
                         {"line": 2, "sku": "B", "warehouse": "MAIN", "qty": 2}],
         "shipped": [{"warehouse": "MAIN", "lines": [{"line": 1, "qty": 3}, {"line": 2, "qty": 1}]}]}
    assert held(o) == [{"line": 1, "sku": "A", "warehouse": "EAST", "qty": 2},
                       {"line": 2, "sku": "B", "warehouse": "MAIN", "qty": 1}]
    assert [(a.status, a.available) for a in answer_from_order(o)] == [("available", 5), ("available", 2)]


def test_claims_merge_into_one_allocation_per_line_and_warehouse():
    cur = [{"line": 1, "sku": "A", "warehouse": "MAIN", "qty": 2}]
    got = merge_allocations(cur, [{"line": 1, "sku": "A", "warehouse": "MAIN", "qty": 3},
                                  {"line": 1, "sku": "A", "warehouse": "EAST", "qty": 1}])
    assert got == [{"line": 1, "sku": "A", "warehouse": "EAST", "qty": 1}, {"line": 1, "sku": "A", "warehouse": "MAIN", "qty": 5}]
    assert cur[0]["qty"] == 2  # the input is not changed


def test_profile_input_is_normalised_and_checked():
    got = crm.profile_from_input({"id": "C1", "name": " Acme ", "tier": "Gold", "credit_limit": "1,000.00".replace(",", ""),
                                  "open_balance": "-5.25", "days_late": "7", "credit_hold": "yes",
                                  "contact_email": "a@b.example", "currency": "eur", "partner": ""})
    assert got == {"name": "Acme", "tier": "gold", "credit_limit_cents": 100000, "open_balance_cents": -525,
                   "days_late": 7, "credit_hold": True, "currency": "EUR", "contacts": [{"email": "a@b.example"}]}
    for bad, needle in [({"tier": "tin"}, "tier must be"), ({"days_late": "-1"}, "days_late must be"),
                        ({"credit_hold": "maybe"}, "true or false"), ({"colour": "red"}, "unknown customer field")]:
        with pytest.raises(InvalidInput, match=needle):
            crm.profile_from_input(bad)
    with pytest.raises(InvalidInput, match="customer id"):
        crm.customer_id("no spaces please")
