"""Orders with known timings for the Review's tests (integration and e2e): five orders shipped in
January 2021 from warehouse RVW after 10, 20, 30, 40 and 100 hours (three on time, 6 of 7 lines
fully available when placed), three open in picking for 2, 20 and 30 hours (on track, at risk,
late against the 24-hour limit; the last with a backorder line), and one shipped order in RVR that
only Billing may read. No other test uses these warehouses or that month."""
from __future__ import annotations

import datetime as dt

from tests.viewdata import order_doc

T0 = dt.datetime(2021, 1, 4, 8, 0, tzinfo=dt.timezone.utc)   # a Monday
SHIP_HOURS = {"SO-RVW-000001": 10, "SO-RVW-000002": 20, "SO-RVW-000003": 30, "SO-RVW-000004": 40,
              "SO-RVW-000005": 100}
ON_TIME = {"SO-RVW-000001", "SO-RVW-000002", "SO-RVW-000003"}
FILL = {"SO-RVW-000001": (2, 2), "SO-RVW-000002": (2, 1)}    # others: one line, fully available
OPEN = {"SO-RVW-000006": 2, "SO-RVW-000007": 20, "SO-RVW-000008": 30}   # hours in picking (limit 24)


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def step(at, action, frm, to, by="sally"):
    return {"at": iso(at), "by": by, "action": action, "from": frm, "to": to}


def flow(start: dt.datetime, ship_hours: float | None, pick_at: dt.datetime | None = None) -> list[dict]:
    h = dt.timedelta(hours=1)
    out = [step(start, "create", None, "submitted"), step(start + h, "approve", "submitted", "approved"),
           step(start + 2 * h, "allocate", "approved", "allocated"),
           step(pick_at or start + 4 * h, "pick", "allocated", "picking")]
    if ship_hours is not None:
        out.append(step(start + ship_hours * h, "ship", "picking", "shipped"))
    return out


def doc(number, status, history, warehouse="RVW", lines=1, full=1, tier="gold", **fields):
    d = order_doc(number, status=status, at=history[0]["at"],
                  lines=[{"sku": "WID-100", "qty": 2, "unit_price_cents": 450}] * lines, **fields)
    d["customer"]["tier"] = tier
    d["history"] = history
    d["updated_at"] = history[-1]["at"]
    d["allocations"] = [{"line": 1, "sku": "WID-100", "warehouse": warehouse, "qty": 2}]
    d["fill"] = {"lines": lines, "full": full}
    return d


def write_review_orders(admin_db) -> list[dict]:
    """The Review's hand-computed orders (see the module doc), written as admin once a session."""
    if admin_db.get_or_none("order:SO-RVW-000001") is not None:   # written earlier in this session
        return []
    now = dt.datetime.now(dt.timezone.utc)
    docs = []
    for number, hours in SHIP_HOURS.items():
        shipped = T0 + dt.timedelta(hours=hours)
        promised = (shipped.date() if number in ON_TIME else shipped.date() - dt.timedelta(days=1)).isoformat()
        lines, full = FILL.get(number, (1, 1))
        docs.append(doc(number, "shipped", flow(T0, hours), lines=lines, full=full, promised_date=promised))
    for number, hours in OPEN.items():
        start = now - dt.timedelta(hours=40)
        d = doc(number, "picking", flow(start, None, pick_at=now - dt.timedelta(hours=hours)))
        if number == "SO-RVW-000008":
            d["backorders"] = [{"line": 1, "sku": "WID-100", "qty": 1}]
            d["allocations"][0]["qty"] = 1
        docs.append(d)
    # Restricted: readable by Billing (named twice: by role and by name) and nobody else.
    docs.append(doc("SO-RVR-000001", "shipped", flow(T0, 50), warehouse="RVR", tier="silver",
                    readers=["[Billing]", "bill"], authors=["bill"]))
    res = admin_db.bulk(docs)
    assert not [r for r in res if r.get("error")], res
    return docs
